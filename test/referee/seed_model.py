"""The seed article's model, exactly as written ("Take a Derivative wrt the Moon"): its customRNN layer and
build_model(), with only the recurrent activation selectable (the article switches it by editing a line).
Shared by seed_referee.py (the referee) and seed_program.py (the P1 benchmark) so both run the same code."""


def make_seed_model(tf, activation, units_, input_dim_, batch_size_):
    activation_rec = {
        "relu": tf.nn.relu,
        "sigmoid": tf.nn.sigmoid,
        "linear": lambda x: x,
    }[activation]

    # The article's globals, read by build_model().
    units, input_dim, batch_size = units_, input_dim_, batch_size_

    class customRNN(tf.keras.layers.Layer):

        def get_config(self):
            return self.init_args

        def __init__(self, num_neurons=None, initializer='glorot_uniform', **kwargs):
            self.init_args = dict(num_neurons=num_neurons)
            super().__init__(**kwargs)
            self.__dict__.update(self.init_args)

            self.activation_rec = activation_rec
            # article: self.activation_rec = tf.nn.relu
            # self.activation_rec = tf.nn.sigmoid
            # self.activation_rec = lambda x: x
            self.activation_in = tf.nn.sigmoid

            self.state_size = [num_neurons, num_neurons]

            self.linear_rec = tf.keras.layers.Dense(num_neurons, kernel_initializer=initializer)
            self.linear_in = tf.keras.layers.Dense(num_neurons, use_bias=False, kernel_initializer=initializer)

        def call(self, inputs, states, training=None):
            old_h, old_c = states

            h = self.linear_rec(self.activation_rec(old_h))
            c = old_c - old_h + h

            output = self.activation_in(self.linear_in(inputs) + c)

            new_state = [h, c]
            return output, new_state

    def build_model():
        input_layer = tf.keras.Input(shape=(1, input_dim), batch_size=batch_size)
        hi = tf.keras.Input(shape=(units,), batch_size=batch_size)
        ci = tf.keras.Input(shape=(units,), batch_size=batch_size)

        cell = customRNN(units)
        lstm = tf.keras.layers.RNN(cell, return_state=True, return_sequences=True, stateful=True)

        lstm_out, hidden_state, cell_state = lstm(input_layer, initial_state=(hi, ci))

        model = tf.keras.Model(inputs=[input_layer, hi, ci], outputs=[lstm_out, hidden_state, cell_state])
        return model

    return build_model
