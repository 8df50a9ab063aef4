package ai.chunkwise.train.backend;

import ai.chunkwise.train.checkpoint.HfCheckpoint;
import ai.chunkwise.train.checkpoint.SafeTensors;
import ai.chunkwise.train.engine.Batch;
import ai.chunkwise.train.engine.BatchGradients;
import ai.chunkwise.train.engine.FullBackprop;
import ai.chunkwise.train.engine.GradientEngine;
import ai.chunkwise.train.engine.SecoEngine;
import ai.chunkwise.train.model.LlamaModel;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * Proves that the active ND4J backend computes the right thing: the loss and every gradient of a tiny Llama
 * (2 layers, hidden 48, tied embeddings, llama3 rope scaling; 2 sequences of 150 tokens), in float64, by plain
 * back-propagation and by SeCO (chunks of 64, which do not divide the sequence), against what Hugging Face
 * transformers computed in float64 for the same weights and tokens.
 *
 * <p>The fixture is bundled under {@value #RESOURCES}: config.json and model.safetensors of the test fixture
 * {@code fixtures/hf-llama-float64/tiny-llama3-tied}, and its reference (made by
 * train-job/tools/make_float64_references.py) without the logits, ~0.7 MB in all.
 */
public final class GradientSelfCheck {
    static final String RESOURCES = "ai/chunkwise/train/doctor/tiny-llama3-tied/";
    private static final String[] FILES = {"config.json", "model.safetensors", "reference-float64.safetensors"};
    /** The bound HfFloat64ReferenceTest holds the engines to; float64 agreement is typically ~1e-13. */
    public static final double TOLERANCE = 1e-9;

    /** One engine's agreement with the reference: relative loss error and the worst tensor's relative L2 error. */
    public record Outcome(String engine, double lossError, double worstGradientError, String worstTensor) {
        public boolean passed() {
            return lossError <= TOLERANCE && worstGradientError <= TOLERANCE;
        }
    }

    private GradientSelfCheck() {
    }

    /** Runs both engines on the bundled fixture (unpacked to a temporary directory, removed afterwards). */
    public static List<Outcome> run() {
        Path dir = unpack();
        try {
            HfCheckpoint checkpoint = HfCheckpoint.load(dir, DataType.DOUBLE);
            Map<String, INDArray> ref = SafeTensors.read(dir.resolve(FILES[2]), DataType.DOUBLE);
            long[][] tokens = tokens(ref.get("input_ids"));
            LlamaModel model = new LlamaModel(checkpoint.config(), checkpoint.weights(), null, DataType.DOUBLE,
                    tokens.length);
            Batch batch = Batch.of(tokens);
            double loss = ref.get("loss").getDouble(0);
            List<Outcome> outcomes = new ArrayList<>();
            for (GradientEngine engine : new GradientEngine[] {new FullBackprop(model), new SecoEngine(model, 64)}) {
                BatchGradients g = engine.compute(batch);
                String worstName = null;
                double worst = 0;
                for (Map.Entry<String, INDArray> e : ref.entrySet()) {
                    if (!e.getKey().startsWith("grad.")) {
                        continue;
                    }
                    String name = e.getKey().substring("grad.".length());
                    INDArray mine = g.gradients().get(name);
                    double err = mine == null ? Double.POSITIVE_INFINITY : relativeError(mine, e.getValue());
                    if (worstName == null || !(err <= worst)) {
                        worst = err;
                        worstName = name;
                    }
                }
                String label = engine instanceof SecoEngine ? "SeCO, chunks of 64" : "full back-propagation";
                outcomes.add(new Outcome(label, Math.abs(g.loss() - loss) / Math.abs(loss), worst, worstName));
            }
            return outcomes;
        } finally {
            for (String f : FILES) {
                dir.resolve(f).toFile().delete();
            }
            dir.toFile().delete();
        }
    }

    private static Path unpack() {
        try {
            Path dir = Files.createTempDirectory("chunkwise-doctor-");
            for (String f : FILES) {
                try (InputStream in = GradientSelfCheck.class.getClassLoader().getResourceAsStream(RESOURCES + f)) {
                    if (in == null) {
                        throw new IllegalStateException("the bundled fixture " + RESOURCES + f + " is missing from "
                                + "the jar: rebuild it (mvn -B package -DskipTests)");
                    }
                    Files.copy(in, dir.resolve(f));
                }
            }
            return dir;
        } catch (IOException e) {
            throw new UncheckedIOException("cannot unpack the doctor's fixture: " + e.getMessage(), e);
        }
    }

    private static long[][] tokens(INDArray ids) {
        long[][] t = new long[(int) ids.size(0)][(int) ids.size(1)];
        for (int b = 0; b < t.length; b++) {
            for (int j = 0; j < t[b].length; j++) {
                t[b][j] = ids.getLong(b, j);
            }
        }
        return t;
    }

    /** ||actual - expected|| / ||expected||, in float64. */
    static double relativeError(INDArray actual, INDArray expected) {
        INDArray a = actual.castTo(DataType.DOUBLE);
        if (!java.util.Arrays.equals(a.shape(), expected.shape())) {
            return Double.POSITIVE_INFINITY;
        }
        double norm = expected.norm2Number().doubleValue();
        double diff = a.sub(expected).norm2Number().doubleValue();
        return norm == 0 ? diff : diff / norm;
    }
}
