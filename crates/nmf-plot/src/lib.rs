//! Figures (placeholder, see issue #3).
