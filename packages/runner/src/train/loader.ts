/**
 * Moved to ../data/ (DataLoader, applyChain, loadBatches). This re-export keeps old imports
 * working; import from "../data/index.js" instead — the file goes once nothing imports it.
 */
export { applyChain, type LoaderOptions, loadBatches } from "../data/index.js";
