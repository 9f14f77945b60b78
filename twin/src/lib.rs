//! Physics twin of a liquid-cooled AI campus, from GPU die to utility meter.
