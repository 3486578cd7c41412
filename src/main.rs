//! The `fettle` command. All logic lives in the library; see `fettle::cli`.

fn main() -> std::process::ExitCode {
    fettle::cli::main()
}
