//! Misuse of `#[task]` is a compile error with a clear message at the right place.

#[test]
fn misuse_fails_to_compile() {
    let cases = trybuild::TestCases::new();
    cases.compile_fail("tests/compile_fail/*.rs");
}
