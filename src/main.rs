fn main() {
    std::process::exit(airlock::cli_main());
}
