use redkit_typed::TypedKey;

async fn load(redis: &redkit_server::Mock) {
    let name: TypedKey<String> = TypedKey::new("name");
    // A TypedKey<String> reads as Option<String>, not as an integer.
    let _n: Option<i64> = name.get(redis).await.unwrap_or(None);
}

fn main() {
    drop(load(&redkit_server::Mock::new()));
}
