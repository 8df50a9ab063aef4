package ai.chunkwise.train.cli;

import ai.chunkwise.train.checkpoint.HfCheckpoint;
import ai.chunkwise.train.checkpoint.PeftAdapter;
import ai.chunkwise.train.data.BatchAssembler;
import ai.chunkwise.train.data.TrainingSequences;
import ai.chunkwise.train.engine.Batch;
import ai.chunkwise.train.engine.InferencePass;
import ai.chunkwise.train.model.LlamaModel;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import org.nd4j.linalg.api.buffer.DataType;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;

/**
 * {@code eval}: perplexity of a model over a dataset (or its first N sequences), forward only, chunk by chunk
 * with a K/V cache ({@link InferencePass}). The mean loss is over all predicted tokens of all sequences.
 */
@Command(name = "eval", mixinStandardHelpOptions = true,
        description = "Perplexity (exp of the mean next-token loss) of a model over a dataset.")
final class EvalCommand implements Callable<Integer> {
    private static final ObjectMapper JSON = new ObjectMapper();

    @Option(names = "--model", required = true, description = "Hugging Face model directory (e.g. a checkpoint's model/)")
    Path model;

    @Option(names = "--adapter", description = "PEFT LoRA adapter directory applied to the model")
    Path adapter;

    @Option(names = "--dataset", required = true, description = "dataset directory")
    Path dataset;

    @Option(names = "--max-sequences", defaultValue = "0", description = "evaluate the first N sequences (0 = all)")
    long maxSequences;

    @Option(names = "--batch-size", defaultValue = "1", description = "sequences per forward pass")
    int batchSize;

    @Option(names = "--chunk-size", defaultValue = "0", description = "tokens per chunk (0 = the dataset's)")
    int chunkSize;

    @Option(names = "--document-boundaries", defaultValue = "on", paramLabel = "on|off",
            description = "confine attention to each packed document (default on)")
    String documentBoundaries;

    @Option(names = "--dtype", defaultValue = "float32", description = "float32 (default) | float64")
    GradCommand.Precision dtype;

    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    @Override
    public Integer call() {
        boolean boundaries = switch (documentBoundaries) {
            case "on", "true" -> true;
            case "off", "false" -> false;
            default -> throw new CommandLine.ParameterException(spec.commandLine(),
                    "--document-boundaries takes on or off, got '" + documentBoundaries + "'");
        };
        if (batchSize < 1 || chunkSize < 0 || maxSequences < 0) {
            throw new CommandLine.ParameterException(spec.commandLine(),
                    "--batch-size must be >= 1, --chunk-size and --max-sequences >= 0");
        }
        long t0 = System.nanoTime();
        DataType dt = dtype.dataType;
        HfCheckpoint hf = HfCheckpoint.load(model, dt);
        PeftAdapter lora = adapter == null ? null : PeftAdapter.load(adapter, dt);
        TrainingSequences data = TrainingSequences.load(dataset, maxSequences, true);
        data.requireFits(hf.config(), model.toString());
        int chunk = chunkSize == 0 ? data.header().chunkSize() : chunkSize;
        int rows = Math.min(batchSize, data.size());
        LlamaModel llama = new LlamaModel(hf.config(), hf.weights(), lora, dt, rows);
        InferencePass pass = new InferencePass(llama, chunk);
        BatchAssembler assembler = new BatchAssembler(boundaries);

        double lossSum = 0;
        long predicted = 0;
        int evaluated = 0;
        // sequences that do not fill a last batch are dropped: the graph's batch size is fixed (docs/dl4j-m2.1.md)
        for (int start = 0; start + rows <= data.size(); start += rows) {
            List<ai.chunkwise.pipeline.packing.PackedSequence> group = new ArrayList<>();
            for (int i = start; i < start + rows; i++) {
                group.add(data.get(i));
            }
            Batch batch = assembler.assemble(group);
            long n = BatchAssembler.predictedTokens(batch);
            if (n > 0) {
                lossSum += pass.loss(batch) * n;
                predicted += n;
            }
            evaluated += rows;
        }
        if (predicted == 0) {
            throw new IllegalArgumentException("dataset " + dataset + " has no predicted token in the sequences "
                    + "evaluated: nothing to measure");
        }
        double loss = lossSum / predicted;
        double seconds = (System.nanoTime() - t0) / 1e9;
        ObjectNode o = JSON.createObjectNode();
        o.put("dataset", dataset.toString());
        o.put("model", model.toString());
        if (adapter != null) {
            o.put("adapter", adapter.toString());
        }
        o.put("sequences", evaluated);
        o.put("sequences_dropped", data.size() - evaluated);
        o.put("predicted_tokens", predicted);
        o.put("loss", loss);
        o.put("perplexity", Math.exp(loss));
        o.put("chunk_size", chunk);
        o.put("seconds", seconds);
        o.put("tokens_per_s", (double) evaluated * data.sequenceLength() / seconds);
        spec.commandLine().getOut().println(o.toString());
        spec.commandLine().getOut().flush();
        return 0;
    }
}
