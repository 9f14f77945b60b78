//! Campus-level tests: steady states, conservation, resolutions, faults.
