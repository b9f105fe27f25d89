// Public surface of src/sae (re-exported by src/index.ts).
export {};
