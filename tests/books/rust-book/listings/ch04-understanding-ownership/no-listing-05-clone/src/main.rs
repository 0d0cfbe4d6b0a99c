fn main() {
    // ANCHOR: here
    let s1 = String::from("hello");
    let s2 = s1.clone();

    println!("s1 = {}, s2 = {}", s1, s2);
    // ANCHOR_END: here
}
