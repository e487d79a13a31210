//! plans tools against a mocked SolvaPay.
