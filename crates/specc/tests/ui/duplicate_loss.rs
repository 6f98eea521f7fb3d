specc::model! {
    model Tiny {
        input [4];
        dense(1);
        loss mse;
        loss mae;
        optimizer sgd(lr = 0.1);
    }
}

fn main() {}
