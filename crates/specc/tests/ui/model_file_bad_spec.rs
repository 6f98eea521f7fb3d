specc::model_file!("tests/ui/bad_model.spec");

fn main() {}
