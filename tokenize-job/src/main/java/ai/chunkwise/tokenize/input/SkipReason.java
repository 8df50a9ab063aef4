package ai.chunkwise.tokenize.input;

/** Why an input record was not packed; the key is what manifest.json's counts.documents_skipped uses. */
public enum SkipReason {
    /** The bytes are not valid UTF-8. */
    INVALID_UTF8("invalid_utf8"),
    /** Empty or whitespace-only text, or text the tokenizer turns into no token. */
    EMPTY("empty_text"),
    /** A JSON line that does not parse, or is not a JSON object. */
    INVALID_JSON("invalid_json"),
    /** The text field is absent (jsonl) or null (jsonl, parquet). */
    MISSING_FIELD("missing_field"),
    /** The text field is present but not a string. */
    NON_STRING_FIELD("non_string_field");

    private final String key;

    SkipReason(String key) {
        this.key = key;
    }

    public String key() {
        return key;
    }
}
