use redkit_typed::TypedKey;

async fn store(redis: &redkit_server::Mock) {
    let name: TypedKey<String> = TypedKey::new("name");
    // A TypedKey<String> cannot be set with an integer.
    let _ = name.set(redis, &42).await;
}

fn main() {
    drop(store(&redkit_server::Mock::new()));
}
