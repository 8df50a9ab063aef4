package ai.chunkwise.tokenize;

import ai.chunkwise.pipeline.packing.PackingSpec;
import ai.chunkwise.pipeline.storage.Redact;
import ai.chunkwise.pipeline.tokenizer.HuggingFaceTokenizerJson;
import ai.chunkwise.pipeline.tokenizer.TextTokenizer;
import ai.chunkwise.pipeline.tokenizer.TokenizerInfo;
import ai.chunkwise.tokenize.config.TokenizeSettings;
import ai.chunkwise.tokenize.input.InputFiles;
import ai.chunkwise.tokenize.output.OutputDirectory;
import ai.chunkwise.tokenize.output.VersionPlan;
import ai.chunkwise.tokenize.shard.ResolvedTokenizer;
import org.apache.hadoop.conf.Configuration;
import org.apache.hadoop.fs.FileStatus;

import java.util.LinkedHashMap;
import java.util.Map;
import java.util.SortedMap;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Everything checked before any Spark work: the tokenizer loads, the packing spec is valid for it, the input
 * exists, the outputs are writable, and what this run publishes given the datasets already there (a first or
 * complete new version, an increment of new input files, or nothing). A mistake costs seconds, not a cluster run.
 *
 * @param settings    the effective settings, with an automatic shard count resolved for the files to read
 * @param producer    what produces the training dataset's bytes (settings and tokenizer identity)
 * @param input       the input files this run reads (only the new ones for an increment)
 * @param evalOutput  where the held-out documents go (tokenize.eval-fraction > 0), or null
 * @param evalVersion what the held-out dataset publishes (always the same kind and files as {@code version}), or null
 */
public record TokenizePlan(TokenizeSettings settings, ResolvedTokenizer tokenizerSource, TokenizerInfo tokenizer,
                           PackingSpec packing, SortedMap<String, Object> producer, InputFiles input,
                           OutputDirectory output, VersionPlan version, OutputDirectory evalOutput,
                           VersionPlan evalVersion) {

    /** Input bytes per shard when tokenize.shards = 0 (auto). */
    public static final long AUTO_SHARD_INPUT_BYTES = 256L << 20;
    private static final Logger LOG = LoggerFactory.getLogger(TokenizePlan.class);

    /** Shards of the held-out dataset: its share of the training shards, at least one. */
    public int evalShards() {
        return (int) Math.max(1, Math.ceil(settings.shards() * settings.evalFraction()));
    }

    /** The producer of one of the two datasets a held-out split writes. */
    public SortedMap<String, Object> producerOf(String split) {
        return withSplit(producer, split);
    }

    public static TokenizePlan prepare(TokenizeSettings settings, Configuration hadoopConf) {
        ResolvedTokenizer source = ResolvedTokenizer.resolve(settings.tokenizer(), settings.specialTokens(), hadoopConf);
        TokenizerInfo info;
        try (TextTokenizer t = source.open()) {
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
        OutputDirectory output = OutputDirectory.check(settings.output(), hadoopConf);
        SortedMap<String, Object> producer = producer(settings, info);
        boolean split = settings.evalFraction() > 0;
        VersionPlan version = VersionPlan.decide(settings.mode(), settings.overwrite(), output.existing(),
                withSplit(producer, split ? "train" : null), input, Redact.uri(settings.output()));
        OutputDirectory evalOutput = null;
        VersionPlan evalVersion = null;
        if (split) {
            evalOutput = OutputDirectory.check(settings.evalOutputPath(), hadoopConf);
            if (evalOutput.path().equals(output.path())) {
                throw new IllegalArgumentException("tokenize.eval-output (--eval-output) is the output directory "
                        + output.path() + " itself: give the held-out set a directory of its own");
            }
            evalVersion = VersionPlan.decide(settings.mode(), settings.overwrite(), evalOutput.existing(),
                    withSplit(producer, "eval"), input, Redact.uri(settings.evalOutputPath()));
            if (!version.sameWork(evalVersion)) {
                // the two halves of one split must stay at the same input files: rebuild both, or refuse
                if (!settings.overwrite()) {
                    throw new IllegalArgumentException("the held-out set " + Redact.uri(settings.evalOutputPath())
                            + " and the training set " + Redact.uri(settings.output()) + " are not at the same input ("
                            + evalVersion.reason() + " / " + version.reason() + "); pass --overwrite to publish both anew");
                }
                version = version.asFull(input.files());
                evalVersion = evalVersion.asFull(input.files());
            }
        }
        InputFiles toRead = version.kind() == VersionPlan.Kind.INCREMENT ? input.only(version.files()) : input;
        long bytes = toRead.files().stream().mapToLong(FileStatus::getLen).sum();
        int shards = settings.shards() > 0 ? settings.shards()
                : (int) Math.max(1, (bytes + AUTO_SHARD_INPUT_BYTES - 1) / AUTO_SHARD_INPUT_BYTES);
        return new TokenizePlan(settings.withShards(shards), source, info, spec, producer, toRead, output, version,
                evalOutput, evalVersion);
    }

    private static SortedMap<String, Object> withSplit(SortedMap<String, Object> producer, String split) {
        SortedMap<String, Object> p = new java.util.TreeMap<>(producer);
        if (split != null) {
            p.put("split", split);
        }
        return p;
    }

    /** The settings that change bytes plus the tokenizer's identity (its name is in every shard's schema). */
    static SortedMap<String, Object> producer(TokenizeSettings settings, TokenizerInfo t) {
        SortedMap<String, Object> p = settings.producerSettings();
        Map<String, Object> tok = new LinkedHashMap<>();
        tok.put("name", t.name());
        tok.put("vocab_size", t.vocabSize());
        tok.put("vocab_hash", t.vocabHash());
        tok.put("bos_id", t.bosId());
        tok.put("eos_id", t.eosId());
        tok.put("pad_id", t.padId());
        p.put("tokenizer", tok);
        return p;
    }
}
