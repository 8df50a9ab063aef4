package ai.chunkwise.pipeline.tokenizer;

import ai.chunkwise.pipeline.packing.PackingPolicy;
import ai.chunkwise.pipeline.packing.PackingSpec;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Where an hf: tokenizer's special tokens come from: config files beside tokenizer.json, explicit names, guesses. */
class HuggingFaceSpecialTokensTest {

    /** Ids: [UNK]=0 a=1 b=2; added: <s>=3 </s>=4 <|x_bos|>=5 <|x_eos|>=6 <|x_pad|>=7. */
    private static final String TOKENIZER = """
            {"version": "1.0", "pre_tokenizer": {"type": "Whitespace"},
             "added_tokens": [
               {"id": 3, "content": "<s>", "special": true, "single_word": false, "lstrip": false, "rstrip": false, "normalized": false},
               {"id": 4, "content": "</s>", "special": true, "single_word": false, "lstrip": false, "rstrip": false, "normalized": false},
               {"id": 5, "content": "<|x_bos|>", "special": true, "single_word": false, "lstrip": false, "rstrip": false, "normalized": false},
               {"id": 6, "content": "<|x_eos|>", "special": true, "single_word": false, "lstrip": false, "rstrip": false, "normalized": false},
               {"id": 7, "content": "<|x_pad|>", "special": true, "single_word": false, "lstrip": false, "rstrip": false, "normalized": false}],
             "model": {"type": "WordLevel", "vocab": {"[UNK]": 0, "a": 1, "b": 2}, "unk_token": "[UNK]"}}
            """;

    @TempDir
    Path dir;

    private Path tokenizer(String config, String map) throws IOException {
        Files.writeString(dir.resolve("tokenizer.json"), TOKENIZER);
        if (config != null) {
            Files.writeString(dir.resolve("tokenizer_config.json"), config);
        }
        if (map != null) {
            Files.writeString(dir.resolve("special_tokens_map.json"), map);
        }
        return dir.resolve("tokenizer.json");
    }

    private static TokenizerInfo info(Path file, SpecialTokenNames names) {
        try (TextTokenizer t = TextTokenizer.fromSpec("hf:" + file, names)) {
            return t.info();
        }
    }

    @Test
    void withoutConfigFilesTheUsualNamesAreGuessed() throws IOException {
        TokenizerInfo i = info(tokenizer(null, null), SpecialTokenNames.NONE);
        assertEquals(3, i.bosId());
        assertEquals(4, i.eosId());
        assertEquals(4, i.padId());   // no pad: EOS
    }

    @Test
    void tokenizerConfigNamesThemAsStringsOrAddedTokenObjects() throws IOException {
        Path f = tokenizer("""
                {"add_bos_token": true, "bos_token": "<|x_bos|>",
                 "eos_token": {"__type": "AddedToken", "content": "<|x_eos|>", "lstrip": false},
                 "pad_token": {"content": "<|x_pad|>"}}""", null);
        TokenizerInfo i = info(f, SpecialTokenNames.NONE);
        assertEquals(5, i.bosId());
        assertEquals(6, i.eosId());
        assertEquals(7, i.padId());
        try (HuggingFaceTokenizerJson t = HuggingFaceTokenizerJson.open(f)) {
            assertEquals(Boolean.TRUE, t.specialTokens().addBosToken());
            assertNull(t.specialTokens().addEosToken());
        }
    }

    @Test
    void aNullTokenMeansNoneAndIsNotGuessed() throws IOException {
        // Qwen's style: bos_token null although "<s>" exists; no pad_token: pad = EOS
        TokenizerInfo i = info(tokenizer("{\"bos_token\": null, \"eos_token\": \"<|x_eos|>\"}", null), SpecialTokenNames.NONE);
        assertEquals(-1, i.bosId());
        assertEquals(6, i.eosId());
        assertEquals(6, i.padId());
    }

    @Test
    void specialTokensMapFillsWhatTheConfigLacks() throws IOException {
        TokenizerInfo i = info(tokenizer("{\"eos_token\": \"<|x_eos|>\"}",
                "{\"bos_token\": {\"content\": \"<|x_bos|>\"}, \"eos_token\": \"</s>\", \"pad_token\": \"<|x_pad|>\"}"),
                SpecialTokenNames.NONE);
        assertEquals(5, i.bosId());
        assertEquals(6, i.eosId());   // the config wins
        assertEquals(7, i.padId());
    }

    @Test
    void explicitNamesWinOverTheFiles() throws IOException {
        TokenizerInfo i = info(tokenizer("{\"bos_token\": \"<|x_bos|>\", \"eos_token\": \"<|x_eos|>\"}", null),
                new SpecialTokenNames("<s>", null, "<|x_pad|>"));
        assertEquals(3, i.bosId());
        assertEquals(6, i.eosId());
        assertEquals(7, i.padId());
    }

    @Test
    void errorsNameTheFileTheKeyAndTheFlag() throws IOException {
        Path f = tokenizer("{\"eos_token\": \"<|im_end|>\"}", null);
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> info(f, SpecialTokenNames.NONE));
        assertTrue(e.getMessage().contains("tokenizer_config.json sets eos_token = '<|im_end|>'"), e.getMessage());
        assertTrue(e.getMessage().contains("--eos-token"), e.getMessage());

        e = assertThrows(IllegalArgumentException.class, () -> info(f, new SpecialTokenNames(null, "<nope>", null)));
        assertTrue(e.getMessage().contains("--eos-token '<nope>' is not a token"), e.getMessage());

        e = assertThrows(IllegalArgumentException.class,
                () -> TextTokenizer.fromSpec("bytes", new SpecialTokenNames("<s>", null, null)));
        assertTrue(e.getMessage().contains("apply only to hf: tokenizers"), e.getMessage());
    }

    @Test
    void packingWithoutABosTokenNamesTheRealFlagsAndKeys() throws IOException {
        TokenizerInfo i = info(tokenizer("{\"bos_token\": null, \"eos_token\": \"</s>\"}", null), SpecialTokenNames.NONE);
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> new PackingSpec(4, 2, PackingPolicy.CONCAT, true, true, i));
        assertTrue(e.getMessage().contains("--bos-token") && e.getMessage().contains("--no-add-bos")
                && e.getMessage().contains("tokenize.add-bos"), e.getMessage());
    }

    @Test
    void aUnigramVocabularyIsAListWhoseIdsArePositions() throws IOException {
        Path f = dir.resolve("tokenizer.json");
        Files.writeString(f, """
                {"version": "1.0", "added_tokens": [], "merges_like_extra": [[1, 2], {"x": [3]}],
                 "model": {"type": "Unigram", "unk_id": 0,
                           "vocab": [["<unk>", 0.0], ["<s>", 0.0], ["</s>", 0.0], ["\u2581a", -1.5], ["b", -2.0]]},
                 "padding": {"pad_id": 4}}""");
        TokenizerInfo i = HuggingFaceTokenizerJson.describe(f);
        assertEquals(5, i.vocabSize());
        assertEquals(1, i.bosId());
        assertEquals(2, i.eosId());
        assertEquals(4, i.padId());   // no config files: padding.pad_id first, as before
    }
}
