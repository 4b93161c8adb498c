fn main() {
    std::process::exit(distillery::cli::main());
}
