'use strict';
// The conformance suite on the native addon (crates/napi).
require('./conformance')('native');
