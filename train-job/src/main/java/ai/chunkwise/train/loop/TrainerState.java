package ai.chunkwise.train.loop;

import ai.chunkwise.train.data.DataPosition;
import ai.chunkwise.train.data.SourcePosition;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;

import java.util.ArrayList;
import java.util.List;

/**
 * The loop's own state at an optimizer-step boundary: with the weights and the optimizer state it determines
 * everything the next step does (the SpaCO draws and the data order are functions of the seeds and of it).
 *
 * @param step        optimizer steps completed
 * @param position    where the data streams stand: rows drawn, and each source's (epoch, index)
 * @param tokensSeen  input tokens (rows x sequence length) consumed so far
 */
public record TrainerState(long step, DataPosition position, long tokensSeen, long dataSeed, long methodSeed,
                           long initSeed, long loraSeed) {
    public static final String FILE_NAME = "trainer_state.json";
    private static final ObjectMapper JSON = new ObjectMapper();
    /** 2: the data position of streamed (shard-order + buffer shuffled), possibly mixed, sources. */
    private static final int VERSION = 2;

    public String toJson() {
        ObjectNode o = JSON.createObjectNode();
        o.put("version", VERSION);
        o.put("step", step);
        ObjectNode data = o.putObject("data_position");
        data.put("drawn", position.drawn());
        ArrayNode sources = data.putArray("sources");
        for (SourcePosition p : position.sources()) {
            sources.addObject().put("epoch", p.epoch()).put("index", p.index());
        }
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
            int version = o.path("version").asInt();
            if (version != VERSION && version != 1) {
                throw new IllegalArgumentException(source + ": trainer state version " + o.path("version")
                        + ", this build reads " + VERSION + " and 1");
            }
            JsonNode seeds = o.required("seeds");
            JsonNode data = o.required("data_position");
            DataPosition position;
            if (version == 1) {
                // one dataset read in a global permutation: the same (epoch, index) continues at the same place in
                // the epoch, in today's streamed order
                position = new DataPosition(0, List.of(new SourcePosition(data.required("epoch").asLong(),
                        data.required("index").asLong())));
            } else {
                List<SourcePosition> sources = new ArrayList<>();
                for (JsonNode p : data.required("sources")) {
                    sources.add(new SourcePosition(p.required("epoch").asLong(), p.required("index").asLong()));
                }
                position = new DataPosition(data.required("drawn").asLong(), sources);
            }
            return new TrainerState(o.required("step").asLong(), position,
                    o.required("tokens_seen").asLong(), seeds.required("data").asLong(),
                    seeds.required("method").asLong(), seeds.required("init").asLong(), seeds.required("lora").asLong());
        } catch (java.io.IOException | IllegalArgumentException e) {
            throw new IllegalArgumentException(source + " is not a valid trainer state (" + e.getMessage()
                    + "); the checkpoint is damaged: resume from an older one by editing checkpoints/latest", e);
        }
    }
}
