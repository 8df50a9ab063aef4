package ai.chunkwise.train.cli;

import ai.chunkwise.train.checkpoint.HfFixtures;
import ai.chunkwise.train.checkpoint.SafeTensors;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

import java.nio.file.Path;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The {@code grad} command end to end on the HF fixtures: its output file holds the loss and every gradient
 * under HF names (checked against transformers' own at the fixture's float32 level, see HfReferenceTest), its
 * stdout is one JSON line, and bad input is reported with the file named.
 */
class GradCommandTest {
    private static final ObjectMapper JSON = new ObjectMapper();



    private static double relativeError(INDArray a, INDArray e) {
        return a.sub(e).norm2Number().doubleValue() / e.norm2Number().doubleValue();
    }

    @Test
    void secoGradientsOfTheLoraFixtureMatchTransformers(@TempDir Path tmp) throws Exception {
        Path fixture = HfFixtures.gqaLora();
        Path out = tmp.resolve("grads.safetensors");
        CommandRun r = CommandRun.of("grad", "--model", fixture.toString(), "--adapter", fixture.resolve("adapter").toString(),
                "--input", fixture.resolve("reference.safetensors").toString(), "--method", "seco",
                "--chunk-size", "48", "--dtype", "float64", "--out", out.toString());
        assertEquals(0, r.code(), r.err());
        String[] lines = r.out().strip().split("\n");
        assertEquals(1, lines.length, "stdout must be exactly one JSON line: " + r.out());
        JsonNode summary = JSON.readTree(lines[0]);
        assertEquals("seco", summary.get("method").asText());
        assertEquals(5, summary.get("chunks").asInt());
        assertTrue(summary.get("peak_physical_bytes").asLong() > 0);

        Map<String, INDArray> reference = SafeTensors.read(fixture.resolve("reference.safetensors"), DataType.DOUBLE);
        Map<String, INDArray> written = SafeTensors.read(out, DataType.DOUBLE);
        assertEquals(DataType.DOUBLE, written.get("loss").dataType());
        assertEquals(reference.get("loss").getDouble(0), written.get("loss").getDouble(0), 1e-5);
        assertEquals(summary.get("loss").asDouble(), written.get("loss").getDouble(0), 0.0);
        long gradients = reference.keySet().stream().filter(n -> n.startsWith("grad.")).count();
        assertEquals(gradients + 1, written.size(), "loss + one grad.<name> per LoRA tensor: " + written.keySet());
        for (Map.Entry<String, INDArray> e : reference.entrySet()) {
            if (e.getKey().startsWith("grad.")) {
                double err = relativeError(written.get(e.getKey()), e.getValue());
                assertTrue(err < 1e-5, e.getKey() + ": relative error " + err);
            }
        }
    }

    @Test
    void spacoAveragesSeveralSeedsAndReportsTheirSpread(@TempDir Path tmp) throws Exception {
        Path fixture = HfFixtures.gqa();
        Path out = tmp.resolve("spaco.safetensors");
        CommandRun r = CommandRun.of("grad", "--model", fixture.toString(), "--input", fixture.resolve("reference.safetensors").toString(),
                "--method", "spaco", "--chunk-size", "64", "--budget", "2", "--samples", "3", "--seed", "7",
                "--dtype", "float32", "--out", out.toString());
        assertEquals(0, r.code(), r.err());
        JsonNode summary = JSON.readTree(r.out().strip());
        assertEquals(3, summary.get("samples").asInt());
        assertTrue(summary.get("relative_spread").asDouble() > 0, r.out());
        // the reported loss is pass 1's, exact whatever the subsets: float32 level of the fixture's loss
        double refLoss = SafeTensors.read(fixture.resolve("reference.safetensors"), DataType.DOUBLE).get("loss").getDouble(0);
        assertEquals(refLoss, summary.get("loss").asDouble(), 1e-5 * refLoss);
        INDArray embedGrad = SafeTensors.read(out, DataType.DOUBLE).get("grad.model.embed_tokens.weight");
        assertEquals(DataType.DOUBLE, embedGrad.dataType());
    }

    @Test
    void badInputIsReportedWithTheFileNamed(@TempDir Path tmp) {
        Path noIds = tmp.resolve("no-ids.safetensors");
        SafeTensors.write(noIds, Map.of("tokens", Nd4j.createFromArray(new long[][]{{1, 2, 3}})), null, DataType.FLOAT);
        CommandRun r = CommandRun.of("grad", "--model", HfFixtures.gqa().toString(), "--input", noIds.toString(), "--method", "full",
                "--out", tmp.resolve("x.safetensors").toString());
        assertEquals(2, r.code());
        assertTrue(r.err().contains(noIds.toString()) && r.err().contains("input_ids"), r.err());

        CommandRun missingChunk = CommandRun.of("grad", "--model", HfFixtures.gqa().toString(), "--input", noIds.toString(),
                "--method", "seco", "--out", tmp.resolve("x.safetensors").toString());
        assertEquals(2, missingChunk.code());
        assertTrue(missingChunk.err().contains("--chunk-size"), missingChunk.err());
    }
}
