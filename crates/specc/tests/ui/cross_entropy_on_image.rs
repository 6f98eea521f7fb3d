specc::model! {
    model Seg {
        input [1, 28, 28];
        conv2d(10, kernel = 3, padding = same);
        loss cross_entropy;
        optimizer sgd(lr = 0.1);
    }
}

fn main() {}
