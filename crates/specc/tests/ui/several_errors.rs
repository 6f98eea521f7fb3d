// Independent errors are reported together, each at its own token.
specc::model! {
    model Tiny {
        input [4];
        dens(8);
        dropout(1.5);
        dense(1, activation = rellu);
        loss mse;
        optimizer sgd(lr = 0.1);
    }
}

fn main() {}
