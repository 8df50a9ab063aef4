package ai.chunkwise.pipeline.tokenizer;

import java.nio.file.Path;

/**
 * Text to token ids and back, behind one interface for tiktoken encodings, Hugging Face
 * {@code tokenizer.json} files and raw UTF-8 bytes. Instances are not required to be thread-safe:
 * create one per task/partition.
 */
public interface TextTokenizer extends AutoCloseable {

    /** The spec forms accepted by {@link #fromSpec(String)}, for error messages. */
    String VALID_SPECS = "tiktoken:r50k_base | tiktoken:p50k_base | tiktoken:p50k_edit | tiktoken:cl100k_base"
            + " | tiktoken:o200k_base | hf:/path/to/tokenizer.json | bytes";

    TokenizerInfo info();

    /**
     * Encodes text; never adds BOS/EOS. tiktoken and bytes never interpret special-token text such as
     * "<|endoftext|>"; hf: tokenizers, like transformers, match added tokens written literally in the text.
     */
    int[] encode(String text);

    String decode(int[] ids);

    @Override
    void close();

    /**
     * Creates a tokenizer from its spec: {@code tiktoken:<encoding>}, {@code hf:<path to tokenizer.json>}
     * or {@code bytes}.
     *
     * @throws IllegalArgumentException for an unknown spec (the message names it and the valid forms)
     *                                  or an unreadable/invalid tokenizer.json
     */
    static TextTokenizer fromSpec(String spec) {
        return fromSpec(spec, SpecialTokenNames.NONE);
    }

    /**
     * As {@link #fromSpec(String)}, with special tokens named explicitly; only {@code hf:} tokenizers take names
     * (tiktoken and bytes have fixed ones).
     */
    static TextTokenizer fromSpec(String spec, SpecialTokenNames explicit) {
        if (spec == null) {
            throw new IllegalArgumentException("tokenizer spec is missing; valid forms: " + VALID_SPECS);
        }
        String s = spec.trim();
        if (!explicit.isEmpty() && !s.startsWith(HuggingFaceTokenizerJson.PREFIX)) {
            throw new IllegalArgumentException("tokenizer '" + spec + "' has fixed special tokens; --bos-token,"
                    + " --eos-token and --pad-token (tokenize.bos-token, ...) apply only to hf: tokenizers");
        }
        if (s.equals(ByteTokenizer.SPEC)) {
            return new ByteTokenizer();
        }
        if (s.startsWith(TiktokenTokenizer.PREFIX)) {
            return TiktokenTokenizer.forEncoding(s.substring(TiktokenTokenizer.PREFIX.length()));
        }
        if (s.startsWith(HuggingFaceTokenizerJson.PREFIX)) {
            String path = s.substring(HuggingFaceTokenizerJson.PREFIX.length());
            if (path.isBlank()) {
                throw new IllegalArgumentException("tokenizer spec '" + spec + "' names no file; expected hf:/path/to/tokenizer.json");
            }
            return HuggingFaceTokenizerJson.open(Path.of(path), explicit);
        }
        throw new IllegalArgumentException("unknown tokenizer spec '" + spec + "'; valid forms: " + VALID_SPECS);
    }
}
