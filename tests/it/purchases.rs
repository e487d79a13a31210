//! purchases tools against a mocked SolvaPay.
