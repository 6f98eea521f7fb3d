specc::model! {
    model Flat {
        input [1, 28, 28];
        conv2d(8, kernel = 3, activation = relu);
        dense(10);
        loss cross_entropy;
        optimizer sgd(lr = 0.1);
    }
}

fn main() {}
