/**
 * Engine layer: correct, differentiable 3-D ops for every tfjs backend (see docs/engine.md).
 * Signatures here are the contract the models use; implementations pick the fastest correct form
 * for the active backend.
 */
export * from "./ops.js";
