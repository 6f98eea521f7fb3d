specc::model! {
    model Tiny {
        input [4];
        dense(8, activation = relu);
        dropout(1.0);
        dense(1);
        loss mse;
        optimizer sgd(lr = 0.1);
    }
}

fn main() {}
