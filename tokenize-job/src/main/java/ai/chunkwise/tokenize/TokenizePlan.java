package ai.chunkwise.tokenize;

import ai.chunkwise.pipeline.packing.PackingSpec;
import ai.chunkwise.pipeline.tokenizer.HuggingFaceTokenizerJson;
import ai.chunkwise.pipeline.tokenizer.TextTokenizer;
import ai.chunkwise.pipeline.tokenizer.TokenizerInfo;
import ai.chunkwise.tokenize.config.TokenizeSettings;
import ai.chunkwise.tokenize.input.InputFiles;
import ai.chunkwise.tokenize.output.OutputDirectory;
import org.apache.hadoop.conf.Configuration;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Everything checked before any Spark work: the tokenizer loads, the packing spec is valid for it, the input
 * exists, the output is writable and holds no dataset (unless overwriting). A mistake costs seconds, not a
 * cluster run.
 *
 * @param settings   the effective settings, with an automatic shard count resolved
 * @param evalOutput where the held-out documents go (tokenize.eval-fraction > 0), or null
 */
public record TokenizePlan(TokenizeSettings settings, TokenizerInfo tokenizer, PackingSpec packing,
                           InputFiles input, OutputDirectory output, OutputDirectory evalOutput) {

    /** Input bytes per shard when tokenize.shards = 0 (auto). */
    public static final long AUTO_SHARD_INPUT_BYTES = 256L << 20;
    private static final Logger LOG = LoggerFactory.getLogger(TokenizePlan.class);

    /** Shards of the held-out dataset: its share of the training shards, at least one. */
    public int evalShards() {
        return (int) Math.max(1, Math.ceil(settings.shards() * settings.evalFraction()));
    }

    public static TokenizePlan prepare(TokenizeSettings settings, Configuration hadoopConf) {
        TokenizerInfo info;
        try (TextTokenizer t = TextTokenizer.fromSpec(settings.tokenizer(), settings.specialTokens())) {
            info = t.info();
            if (t instanceof HuggingFaceTokenizerJson hf && Boolean.TRUE.equals(hf.specialTokens().addBosToken())
                    && !settings.addBos()) {
                LOG.warn("{} says add_bos_token = true (the model expects BOS before every text) but add-bos is off:"
                        + " pass --add-bos (tokenize.add-bos = true) to match", hf.specialTokens().source());
            }
        }
        PackingSpec spec = new PackingSpec(settings.chunkSize(), settings.chunksPerSeq(), settings.packing(),
                settings.addBos(), settings.addEos(), info);
        InputFiles input = InputFiles.resolve(settings.input(), hadoopConf);
        OutputDirectory output = OutputDirectory.check(settings.output(), settings.overwrite(), hadoopConf);
        OutputDirectory evalOutput = null;
        if (settings.evalFraction() > 0) {
            evalOutput = OutputDirectory.check(settings.evalOutputPath(), settings.overwrite(), hadoopConf);
            if (evalOutput.path().equals(output.path())) {
                throw new IllegalArgumentException("tokenize.eval-output (--eval-output) is the output directory "
                        + output.path() + " itself: give the held-out set a directory of its own");
            }
        }
        int shards = settings.shards() > 0 ? settings.shards()
                : (int) Math.max(1, (input.totalBytes() + AUTO_SHARD_INPUT_BYTES - 1) / AUTO_SHARD_INPUT_BYTES);
        return new TokenizePlan(settings.withShards(shards), info, spec, input, output, evalOutput);
    }
}
