//! checkout tools against a mocked SolvaPay.
