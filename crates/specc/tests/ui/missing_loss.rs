specc::model! {
    model NoLoss {
        input [4];
        dense(3);
        optimizer sgd(lr = 0.1);
    }
}

fn main() {}
