package ai.chunkwise.train.cli;

import ai.chunkwise.train.checkpoint.FrozenWeights;
import ai.chunkwise.train.checkpoint.HfCheckpoint;
import ai.chunkwise.train.checkpoint.PeftAdapter;
import ai.chunkwise.train.data.DatasetSource;
import ai.chunkwise.train.data.HadoopEnvironment;
import ai.chunkwise.train.data.TokenizerMatch;
import ai.chunkwise.train.evaluation.Perplexity;
import ai.chunkwise.train.loop.CheckpointStore;
import ai.chunkwise.train.loop.TrainSettings;
import ai.chunkwise.train.model.LlamaModel;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import org.nd4j.linalg.api.buffer.DataType;
import ai.chunkwise.train.memory.MemoryBudget;
import ai.chunkwise.pipeline.storage.Locations;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import java.util.concurrent.Callable;

/**
 * {@code eval}: perplexity of a model over a dataset (or its first N sequences), forward only ({@link Perplexity}).
 * With {@code --checkpoint} the model, the held-out dataset and the settings come from a training run, so the
 * figure is the one the trainer logged as eval_loss for that checkpoint; every option still overrides.
 */
@Command(name = "eval", mixinStandardHelpOptions = true,
        description = {"Perplexity (exp of the mean next-token loss) of a model over a dataset.",
                "--checkpoint <training output or step-NNNNNN dir> evaluates that checkpoint on the run's held-out "
                        + "dataset (train.eval.dataset) with the run's settings; or give --model and --dataset."})
final class EvalCommand implements Callable<Integer> {
    private static final ObjectMapper JSON = new ObjectMapper();

    // locations are Strings: a picocli Path would turn hdfs://host:8020/x into hdfs:/host:8020/x
    @Option(names = "--checkpoint", paramLabel = "DIR", description = "a training output directory (its latest "
            + "checkpoint) or a checkpoint directory, local or any Hadoop file system path")
    String checkpoint;

    @Option(names = "--model", paramLabel = "DIR", description = "Hugging Face model directory (e.g. a checkpoint's "
            + "model/), local or any Hadoop file system path")
    String model;

    @Option(names = "--adapter", paramLabel = "DIR", description = "PEFT LoRA adapter directory applied to the model, "
            + "local or any Hadoop file system path")
    String adapter;

    @Option(names = "--dataset", paramLabel = "DIR", description = "dataset directory, local or any Hadoop file "
            + "system path (hdfs://..., s3a://...); streamed, each shard verified when first read (default with --checkpoint: the run's "
            + "train.eval.dataset)")
    String dataset;

    @Option(names = "--max-sequences", description = "evaluate the first N sequences (0 = all)")
    Long maxSequences;

    @Option(names = "--batch-size", description = "sequences per forward pass (default 1; with --checkpoint the run's)")
    Integer batchSize;

    @Option(names = "--chunk-size", description = "tokens per chunk (0 = the dataset's)")
    Integer chunkSize;

    @Option(names = "--document-boundaries", paramLabel = "on|off",
            description = "confine attention to each packed document (default on)")
    String documentBoundaries;

    @Option(names = "--check-tokenizer", paramLabel = "on|off", description = "refuse a dataset tokenized with "
            + "another tokenizer than the model's tokenizer.json, as train does (default on; with --checkpoint the "
            + "run's train.data.check-tokenizer)")
    String checkTokenizer;

    @Option(names = "--dtype", description = "float32 (default) | float64")
    GradCommand.Precision dtype;

    @Option(names = "--memory-limit", defaultValue = MemoryBudget.AUTO, paramLabel = "auto|SIZE",
            description = "the memory this command may use, as train.memory.limit: auto (default: what the machine "
                    + "has free) or a size such as 12G")
    String memoryLimit;

    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    @Override
    public Integer call() {
        MemoryBudget.parse(memoryLimit).apply();   // before ND4J starts: JavaCPP reads its limits once
        RunDefaults run = checkpoint == null ? RunDefaults.NONE : RunDefaults.of(checkpoint, adapter == null && model == null);
        org.apache.hadoop.conf.Configuration hadoop = HadoopEnvironment.configuration();
        Path modelDir = model != null ? Locations.fetch("--model", model, hadoop) : run.model;
        Path adapterDir = adapter != null ? Locations.fetch("--adapter", adapter, hadoop)
                : model == null ? run.adapter : null;
        String data = dataset != null ? dataset : run.dataset;
        if (modelDir == null) {
            throw new CommandLine.ParameterException(spec.commandLine(), "give --model <HF model dir> or --checkpoint <dir>");
        }
        if (data == null) {
            throw new CommandLine.ParameterException(spec.commandLine(), checkpoint == null
                    ? "give --dataset <dir> (or --checkpoint <training output> to use the run's held-out dataset)"
                    : "the run in " + checkpoint + " has no held-out dataset (train.eval.dataset): give --dataset <dir>");
        }
        boolean boundaries = onOff("--document-boundaries", documentBoundaries, run.documentBoundaries);
        boolean tokenizerChecked = onOff("--check-tokenizer", checkTokenizer, run.checkTokenizer);
        int rowsWanted = batchSize != null ? batchSize : run.batchSize;
        int chunkWanted = chunkSize != null ? chunkSize : run.chunkSize;
        long limit = maxSequences != null ? maxSequences : run.maxSequences;
        DataType dt = dtype != null ? dtype.dataType : run.dataType;
        if (rowsWanted < 1 || chunkWanted < 0 || limit < 0) {
            throw new CommandLine.ParameterException(spec.commandLine(),
                    "--batch-size must be >= 1, --chunk-size and --max-sequences >= 0");
        }
        long t0 = System.nanoTime();
        Perplexity.Result r;
        int chunk;
        int rows;
        int seqLen;
        // streamed in dataset order, one batch of rows in memory; each shard verified when first read
        try (DatasetSource sequences = DatasetSource.open(data, HadoopEnvironment.configuration(), limit, true)) {
            checkTokenizer(data, sequences, modelDir, tokenizerChecked);   // before the weights are loaded
            HfCheckpoint hf = HfCheckpoint.load(modelDir, dt, FrozenWeights.forRun(adapterDir != null));
            PeftAdapter lora = adapterDir == null ? null : PeftAdapter.load(adapterDir, dt);
            sequences.requireFits(hf.config(), modelDir.toString());
            chunk = chunkWanted == 0 ? sequences.header().chunkSize() : chunkWanted;
            rows = (int) Math.min(rowsWanted, sequences.size());
            seqLen = sequences.sequenceLength();
            LlamaModel llama = new LlamaModel(hf.config(), hf.weights(), lora, dt, rows);
            r = new Perplexity(llama, chunk, boundaries, rows).over(sequences);
        }
        double seconds = (System.nanoTime() - t0) / 1e9;

        ObjectNode o = JSON.createObjectNode();
        o.put("dataset", data);
        o.put("model", model != null ? model : modelDir.toString());
        if (adapterDir != null) {
            o.put("adapter", adapter != null ? adapter : adapterDir.toString());
        }
        if (run.checkpointDir != null) {
            o.put("checkpoint", run.checkpointLocation);
        }
        o.put("sequences", r.sequences());
        o.put("sequences_dropped", r.sequencesDropped());
        o.put("predicted_tokens", r.predictedTokens());
        o.put("loss", r.loss());
        o.put("perplexity", r.perplexity());
        o.put("chunk_size", chunk);
        o.put("batch_size", rows);
        o.put("seconds", seconds);
        o.put("tokens_per_s", (double) r.sequences() * seqLen / seconds);
        spec.commandLine().getOut().println(o.toString());
        spec.commandLine().getOut().flush();
        return 0;
    }

    private boolean onOff(String option, String value, boolean otherwise) {
        return value == null ? otherwise : switch (value) {
            case "on", "true" -> true;
            case "off", "false" -> false;
            default -> throw new CommandLine.ParameterException(spec.commandLine(),
                    option + " takes on or off, got '" + value + "'");
        };
    }

    /** The same check train makes: the dataset's tokenizer against the model directory's tokenizer.json. */
    private void checkTokenizer(String data, DatasetSource sequences, Path modelDir, boolean refuse) {
        String override = "pass --check-tokenizer off to evaluate anyway";
        if (refuse) {
            TokenizerMatch.require(data, sequences.header().tokenizer(), modelDir, override);
        } else {
            TokenizerMatch.mismatch(data, sequences.header().tokenizer(), modelDir, override)
                    .ifPresent(m -> spec.commandLine().getErr().println("warning (--check-tokenizer off): " + m));
        }
    }

    /** What a training run's checkpoint says: its weights and the settings the trainer evaluated with. */
    private record RunDefaults(Path checkpointDir, String checkpointLocation, Path model, Path adapter, String dataset,
                               int batchSize, int chunkSize, long maxSequences, boolean documentBoundaries, boolean checkTokenizer, DataType dataType) {
        static final RunDefaults NONE = new RunDefaults(null, null, null, null, null, 1, 0, 0, true, true, DataType.FLOAT);

        /** @param location a training output directory (its checkpoints/latest) or one step-NNNNNN checkpoint */
        static RunDefaults of(String location, boolean useWeights) {
            String where = location;
            Path ckpt;
            if (Locations.isRemote(location)) {
                where = remoteCheckpoint(location);
                ckpt = Locations.fetch("--checkpoint", where, HadoopEnvironment.configuration());
            } else {
                Path dir = Locations.localPath(location);
                ckpt = dir;
                if (!Files.isRegularFile(dir.resolve(CheckpointStore.CONFIG_FILE))) {
                    ckpt = new CheckpointStore(dir, 0).latest().orElseThrow(() -> notARun(location));
                    where = ckpt.toString();
                }
            }
            TrainSettings s = TrainSettings.load(ckpt.resolve(CheckpointStore.CONFIG_FILE), Map.of());
            Path model = null;
            Path adapter = null;
            if (useWeights) {
                if (s.model().lora() == null) {
                    model = ckpt.resolve(CheckpointStore.MODEL_DIR);
                } else {
                    model = s.model().path();
                    adapter = ckpt.resolve(CheckpointStore.ADAPTER_DIR);
                }
            }
            return new RunDefaults(ckpt, where, model, adapter, s.eval().dataset(), s.batchSize(), s.method().chunkSize(),
                    s.eval().maxSequences(), s.data().documentBoundaries(), s.data().checkTokenizer(), s.model().dataType());
        }

        /** A remote checkpoint directory itself, or the one its training output's checkpoints/latest names. */
        private static String remoteCheckpoint(String location) {
            org.apache.hadoop.fs.Path root = new org.apache.hadoop.fs.Path(location);
            try {
                org.apache.hadoop.fs.FileSystem fs = root.getFileSystem(HadoopEnvironment.configuration());
                if (fs.isFile(new org.apache.hadoop.fs.Path(root, CheckpointStore.CONFIG_FILE))) {
                    return location;
                }
                org.apache.hadoop.fs.Path latest = new org.apache.hadoop.fs.Path(root, "checkpoints/" + CheckpointStore.LATEST);
                if (!fs.isFile(latest)) {
                    throw notARun(location);
                }
                String name;
                try (var in = fs.open(latest)) {
                    name = new String(in.readAllBytes(), java.nio.charset.StandardCharsets.UTF_8).trim();
                }
                return location.replaceAll("/+$", "") + "/checkpoints/" + name;
            } catch (java.io.IOException e) {
                throw new java.io.UncheckedIOException("cannot read --checkpoint " + location + ": " + e.getMessage(), e);
            }
        }

        private static IllegalArgumentException notARun(String location) {
            return new IllegalArgumentException(location + " is neither a checkpoint (no " + CheckpointStore.CONFIG_FILE
                    + ") nor a training output with checkpoints (no checkpoints/" + CheckpointStore.LATEST + "): give a "
                    + "run's output directory or one of its checkpoints/step-NNNNNN directories");
        }
    }
}
