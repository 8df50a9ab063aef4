package ai.chunkwise.pipeline.tokenizer;

import ai.djl.huggingface.tokenizers.HuggingFaceTokenizer;
import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonToken;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;

import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.Iterator;
import java.util.Map;

/**
 * Any Hugging Face {@code tokenizer.json}, run by the Rust tokenizers library through DJL's binding.
 *
 * <p>Special ids come from {@code tokenizer_config.json} / {@code special_tokens_map.json} beside the file, or
 * from names given explicitly: see {@link HuggingFaceSpecialTokens}. BOS/EOS are -1 when absent.
 */
public final class HuggingFaceTokenizerJson implements TextTokenizer {

    public static final String PREFIX = "hf:";

    private static final ObjectMapper JSON = new ObjectMapper();

    private final HuggingFaceTokenizer tokenizer;
    private final TokenizerInfo info;
    private final HuggingFaceSpecialTokens specialTokens;

    private HuggingFaceTokenizerJson(HuggingFaceTokenizer tokenizer, TokenizerInfo info,
                                     HuggingFaceSpecialTokens specialTokens) {
        this.tokenizer = tokenizer;
        this.info = info;
        this.specialTokens = specialTokens;
    }

    /** Opens a tokenizer.json file; the tokenizer's name is {@code hf:<file>}. */
    public static HuggingFaceTokenizerJson open(Path tokenizerJson) {
        return open(tokenizerJson, SpecialTokenNames.NONE);
    }

    /**
     * Opens a tokenizer.json file, its special tokens found by {@link HuggingFaceSpecialTokens} (the config files
     * beside it, then {@code explicit}); the tokenizer's name is {@code hf:<file>}.
     */
    public static HuggingFaceTokenizerJson open(Path tokenizerJson, SpecialTokenNames explicit) {
        byte[] bytes;
        try {
            bytes = Files.readAllBytes(tokenizerJson);
        } catch (IOException e) {
            throw new IllegalArgumentException("cannot read Hugging Face tokenizer file " + tokenizerJson + " (" + e
                    + "); check the path in the 'hf:' tokenizer spec", e);
        }
        return fromBytes(PREFIX + tokenizerJson, bytes, tokenizerJson.toAbsolutePath().getParent(), explicit);
    }

    /**
     * Builds a tokenizer from tokenizer.json bytes under a given name, so that Spark executors using a
     * broadcast copy report the same identity as the driver.
     */
    public static HuggingFaceTokenizerJson fromBytes(String name, byte[] tokenizerJson) {
        return fromBytes(name, tokenizerJson, null, SpecialTokenNames.NONE);
    }

    /**
     * As {@link #fromBytes(String, byte[])}, with the special tokens read from the config files in {@code dir}
     * (null: none) unless named in {@code explicit}.
     */
    public static HuggingFaceTokenizerJson fromBytes(String name, byte[] tokenizerJson, Path dir,
                                                     SpecialTokenNames explicit) {
        Described d = describe(name, tokenizerJson, dir, explicit);
        TokenizerInfo info = d.info();
        HuggingFaceSpecialTokens special = d.special();

        // DJL would otherwise probe the EC2 metadata endpoint to send telemetry; nothing here may touch the network.
        if (System.getProperty("offline") == null) {
            System.setProperty("offline", "true");
        }
        // Defaults of DJL are made for classification models: add [CLS]-style tokens, truncate to 512, pad.
        // Long-document packing needs none of that.
        Map<String, String> options = Map.of("addSpecialTokens", "false", "truncation", "false", "padding", "false");
        try {
            HuggingFaceTokenizer tokenizer = HuggingFaceTokenizer.newInstance(new ByteArrayInputStream(tokenizerJson), options);
            return new HuggingFaceTokenizerJson(tokenizer, info, special);
        } catch (IOException | RuntimeException e) {
            throw new IllegalArgumentException(name + ": the Hugging Face tokenizers library rejected this tokenizer.json ("
                    + e.getMessage() + ")", e);
        }
    }

    /**
     * The identity of a tokenizer.json (vocabulary size, special ids found as {@link #open(Path)} finds them, SHA-256)
     * without loading the tokenizer itself; e.g. to compare a model directory's tokenizer with a dataset's.
     */
    public static TokenizerInfo describe(Path tokenizerJson) {
        byte[] bytes;
        try {
            bytes = Files.readAllBytes(tokenizerJson);
        } catch (IOException e) {
            throw new IllegalArgumentException("cannot read Hugging Face tokenizer file " + tokenizerJson + " (" + e + ")", e);
        }
        return describe(PREFIX + tokenizerJson, bytes, tokenizerJson.toAbsolutePath().getParent(), SpecialTokenNames.NONE).info();
    }

    private record Described(TokenizerInfo info, HuggingFaceSpecialTokens special) {
    }

    private static Described describe(String name, byte[] tokenizerJson, Path dir, SpecialTokenNames explicit) {
        VocabularyFields fields;
        try {
            fields = VocabularyFields.read(tokenizerJson, name);
        } catch (IOException e) {
            throw new IllegalArgumentException(name + ": not a valid tokenizer.json (" + e.getMessage().lines().findFirst().orElse("") + ")", e);
        }
        Map<String, Integer> ids = fields.ids;
        int vocabSize = Math.max(fields.unigramSize, ids.values().stream().mapToInt(Integer::intValue).max().orElse(-1) + 1);
        HuggingFaceSpecialTokens special = HuggingFaceSpecialTokens.resolve(name, ids, fields.padding, dir, explicit);
        return new Described(new TokenizerInfo(name, vocabSize, special.bosId(), special.eosId(), special.padId(),
                Sha256.hex(tokenizerJson)), special);
    }

    /**
     * What the special-token lookup needs from a tokenizer.json: token string to id over {@code model.vocab} and
     * {@code added_tokens} (added tokens win), and {@code padding}. Read with Jackson's streaming parser, skipping
     * {@code merges} and the rest: a tree of a 10 MB file costs seconds.
     */
    private static final class VocabularyFields {
        final Map<String, Integer> ids = new HashMap<>();
        int unigramSize = 0;
        JsonNode padding = null;

        static VocabularyFields read(byte[] json, String name) throws IOException {
            VocabularyFields f = new VocabularyFields();
            JsonNode added = null;
            boolean sawVocab = false;
            try (JsonParser p = JSON.getFactory().createParser(json)) {
                if (p.nextToken() != JsonToken.START_OBJECT) {
                    throw new IllegalArgumentException(name + ": tokenizer.json is not a JSON object");
                }
                while (p.nextToken() == JsonToken.FIELD_NAME) {
                    String field = p.getCurrentName();
                    p.nextToken();
                    switch (field) {
                        case "added_tokens" -> added = p.readValueAsTree();
                        case "padding" -> f.padding = p.readValueAsTree();
                        case "model" -> sawVocab = f.readModel(p);
                        default -> p.skipChildren();
                    }
                }
            }
            if (!sawVocab) {
                throw new IllegalArgumentException(name + ": tokenizer.json has no model.vocab; is this a Hugging Face tokenizer.json?");
            }
            if (added != null) {
                for (JsonNode a : added) {
                    if (a.path("content").isTextual() && a.path("id").canConvertToInt()) {
                        f.ids.put(a.path("content").asText(), a.path("id").asInt());
                    }
                }
            }
            return f;
        }

        /** Reads {@code model.vocab}; true when there was one. The parser is on the model's START_OBJECT. */
        private boolean readModel(JsonParser p) throws IOException {
            if (p.currentToken() != JsonToken.START_OBJECT) {
                p.skipChildren();
                return false;
            }
            boolean sawVocab = false;
            while (p.nextToken() == JsonToken.FIELD_NAME) {
                String field = p.getCurrentName();
                JsonToken value = p.nextToken();
                if (!field.equals("vocab")) {
                    p.skipChildren();
                } else if (value == JsonToken.START_OBJECT) {   // BPE, WordPiece, WordLevel: {token: id}
                    sawVocab = true;
                    while (p.nextToken() == JsonToken.FIELD_NAME) {
                        String token = p.getCurrentName();
                        p.nextToken();
                        ids.put(token, p.getValueAsInt());
                    }
                } else if (value == JsonToken.START_ARRAY) {    // Unigram: [[piece, score], ...], ids are positions
                    sawVocab = true;
                    int i = 0;
                    while (p.nextToken() == JsonToken.START_ARRAY) {
                        p.nextToken();
                        ids.put(p.getValueAsString(), i++);
                        p.skipChildren();   // no-op on a scalar; the score and END_ARRAY follow
                        while (p.nextToken() != JsonToken.END_ARRAY) {
                            p.skipChildren();
                        }
                    }
                    unigramSize = i;
                } else {
                    p.skipChildren();
                }
            }
            return sawVocab;
        }
    }

    /** Where the special ids came from, and the config's add_bos_token / add_eos_token. */
    public HuggingFaceSpecialTokens specialTokens() {
        return specialTokens;
    }

    @Override
    public TokenizerInfo info() {
        return info;
    }

    @Override
    public int[] encode(String text) {
        long[] ids = tokenizer.encode(text, false, false).getIds();
        int[] out = new int[ids.length];
        for (int i = 0; i < ids.length; i++) {
            out[i] = Math.toIntExact(ids[i]);
        }
        return out;
    }

    @Override
    public String decode(int[] ids) {
        long[] longs = new long[ids.length];
        for (int i = 0; i < ids.length; i++) {
            if (ids[i] < 0 || ids[i] >= info.vocabSize()) {
                throw new IllegalArgumentException(info.name() + ": id " + ids[i] + " is outside [0, " + info.vocabSize() + ")");
            }
            longs[i] = ids[i];
        }
        return tokenizer.decode(longs, false);
    }

    @Override
    public void close() {
        tokenizer.close();
    }
}
