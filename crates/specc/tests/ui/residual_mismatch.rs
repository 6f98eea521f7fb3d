specc::model! {
    model Res {
        input [8, 14, 14];
        residual {
            conv2d(16, kernel = 3, padding = same);
            relu;
        }
        flatten;
        dense(10);
        loss cross_entropy;
        optimizer sgd(lr = 0.1);
    }
}

fn main() {}
