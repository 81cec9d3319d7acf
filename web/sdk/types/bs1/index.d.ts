export * from "./util.js";
export * from "./kdf.js";
export * from "./envelope.js";
export * from "./keys.js";
export * from "./stream.js";
export * from "./grants.js";
export * from "./recovery.js";
