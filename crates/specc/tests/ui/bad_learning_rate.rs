specc::model! {
    model Tiny {
        input [4];
        dense(1);
        loss mse;
        optimizer sgd(lr = -0.1);
    }
}

fn main() {}
