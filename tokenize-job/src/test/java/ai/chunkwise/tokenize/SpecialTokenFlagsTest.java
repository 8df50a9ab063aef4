package ai.chunkwise.tokenize;

import ai.chunkwise.pipeline.tokenizer.SpecialTokenNames;
import ai.chunkwise.tokenize.config.TokenizeSettings;
import org.junit.jupiter.api.Test;
import picocli.CommandLine;

import static org.junit.jupiter.api.Assertions.assertEquals;

/** --bos-token / --eos-token / --pad-token reach the settings; absent ones stay "from the tokenizer's files". */
class SpecialTokenFlagsTest {
    @Test
    void flagsBecomeSpecialTokenNames() {
        TokenizeJob job = new TokenizeJob();
        new CommandLine(job).parseArgs("--input", "in", "--output", "out", "--tokenizer", "hf:t.json",
                "--eos-token", "<|im_end|>", "--pad-token", "<|endoftext|>");
        TokenizeSettings s = TokenizeSettings.load(job.overrides(), null);
        assertEquals(new SpecialTokenNames(null, "<|im_end|>", "<|endoftext|>"), s.specialTokens());
        assertEquals("", s.toConfigMap().get("bos-token"));
        assertEquals("<|im_end|>", s.toConfigMap().get("eos-token"));
    }
}
