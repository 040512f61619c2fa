'use strict';
// The conformance suite on the WebAssembly engine (crates/wasm + wasm-engine/ glue).
require('./conformance')('wasm');
