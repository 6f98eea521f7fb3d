specc::model! {
    model Tiny {
        input [4];
        dens(3);
        loss mse;
        optimizer sgd(lr = 0.1);
    }
}

fn main() {}
