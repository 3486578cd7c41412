//! A stand-in for getrandom 0.4 that has no source of randomness: every call is an error. fettle's
//! browser build never needs random numbers (zip uses them only to encrypt and to extract to disk).

/// Why no random bytes were given.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Error;

impl Error {
    /// The error this stand-in always returns.
    pub const UNSUPPORTED: Error = Error;
}

impl core::fmt::Display for Error {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.write_str("no random numbers in fettle's WebAssembly build")
    }
}

impl std::error::Error for Error {}

impl From<Error> for std::io::Error {
    fn from(e: Error) -> std::io::Error {
        std::io::Error::other(e)
    }
}

/// Fills `dest` with random bytes: never, here.
pub fn fill(_dest: &mut [u8]) -> Result<(), Error> {
    Err(Error)
}

/// A random `u32`: never, here.
pub fn u32() -> Result<u32, Error> {
    Err(Error)
}

/// A random `u64`: never, here.
pub fn u64() -> Result<u64, Error> {
    Err(Error)
}
