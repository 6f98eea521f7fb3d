specc::model_file!("tests/ui/no_such_model.spec");

fn main() {}
