package ai.chunkwise.train.loop;

import ai.chunkwise.train.data.DataPosition;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;

/**
 * The loop's own state at an optimizer-step boundary: with the weights and the optimizer state it determines
 * everything the next step does (the SpaCO draws and the data order are functions of the seeds and of it).
 *
 * @param step        optimizer steps completed
 * @param position    next sequence to read
 * @param tokensSeen  input tokens (rows x sequence length) consumed so far
 */
public record TrainerState(long step, DataPosition position, long tokensSeen, long dataSeed, long methodSeed,
                           long initSeed, long loraSeed) {
    public static final String FILE_NAME = "trainer_state.json";
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final int VERSION = 1;

    public String toJson() {
        ObjectNode o = JSON.createObjectNode();
        o.put("version", VERSION);
        o.put("step", step);
        o.putObject("data_position").put("epoch", position.epoch()).put("index", position.index());
        o.put("tokens_seen", tokensSeen);
        ObjectNode seeds = o.putObject("seeds");
        seeds.put("data", dataSeed);
        seeds.put("method", methodSeed);
        seeds.put("init", initSeed);
        seeds.put("lora", loraSeed);
        return o.toPrettyString() + "\n";
    }

    public static TrainerState fromJson(String json, String source) {
        try {
            JsonNode o = JSON.readTree(json);
            if (o.path("version").asInt() != VERSION) {
                throw new IllegalArgumentException(source + ": trainer state version " + o.path("version")
                        + ", this build reads " + VERSION);
            }
            JsonNode seeds = o.required("seeds");
            return new TrainerState(o.required("step").asLong(),
                    new DataPosition(o.required("data_position").required("epoch").asLong(),
                            o.required("data_position").required("index").asLong()),
                    o.required("tokens_seen").asLong(), seeds.required("data").asLong(),
                    seeds.required("method").asLong(), seeds.required("init").asLong(), seeds.required("lora").asLong());
        } catch (java.io.IOException | IllegalArgumentException e) {
            throw new IllegalArgumentException(source + " is not a valid trainer state (" + e.getMessage()
                    + "); the checkpoint is damaged: resume from an older one by editing checkpoints/latest", e);
        }
    }
}
