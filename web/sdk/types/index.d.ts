export * as bs1 from "./bs1/index.js";
export * from "./bs1/index.js";
