/** The virtual module playground/build.ts provides to the bundle. */
declare module 'playground:data' {
  const data: import('./data.js').PlaygroundData;
  export default data;
}
