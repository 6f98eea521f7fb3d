specc::model! {
    model Tiny {
        input [4];
        dense(3, activaton = relu);
        loss mse;
        optimizer sgd(lr = 0.1);
    }
}

fn main() {}
