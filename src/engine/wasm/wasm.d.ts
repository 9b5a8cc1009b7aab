// esbuild's binary loader (scripts/build.mjs): importing a .wasm file gives its bytes.
declare module '*.wasm' {
  const bytes: Uint8Array<ArrayBuffer>;
  export default bytes;
}
