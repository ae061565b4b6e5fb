// General English prose for pretraining, from a small context-free grammar. Each paragraph
// binds its own cast (a hero, a friend, a town, a river, an animal, an object) so that its
// sentences hang together; the lexicon avoids the QA domains' vocabulary (no money, medicine
// or arithmetic) so that pretraining does not preview the fine-tuning domains.
#include <map>

#include "experiments/datagen/datagen_common.h"
#include "tensor/error.h"

namespace ls::datagen {
namespace {

struct Rule {
  const char *key, *alternatives;
};
// Lowercase keys are grammar symbols; the paragraph's cast is bound under {H} {F} {T} {R} {A} {O}.
const Rule kRules[] = {
    // Cast.
    {"name_f",
     "Anna|Clara|Ida|Lena|Mira|Nora|Selma|Tilda|Vera|Greta|Hazel|Iris|Maud|Edith|Olive|"
     "Ruth|Alma|Elsie|Frida|Agnes|Beatrix|Dora|Ingrid|Wren"},
    {"name_m",
     "Arthur|Bram|Cyril|Edgar|Felix|Gideon|Hugo|Ivo|Jasper|Leon|Magnus|Otto|Rufus|Silas|"
     "Tobias|Viktor|Walter|Emil|Oscar|Roland|Cedric|Fergus|Lorcan|Percy"},
    {"town_a",
     "Ash|Bram|Cold|Elder|Fen|Glen|Hart|Kings|Lang|Mill|North|Oak|Red|Stone|Thorn|West|"
     "Wil|Wood|Raven|Swan|Bright|Heather"},
    {"town_b", "ford|bury|wick|ton|mere|by|haven|ley|bridge|more|holt|dale|combe|port"},
    {"river", "Avel|Dorn|Esk|Liss|Marra|Ombre|Severin|Tarrow|Velde|Wyre|Alder|Calla|Brenn|Isca"},
    {"animal",
     "red fox|otter|grey heron|badger|brown hare|barn owl|kingfisher|beaver|red deer|"
     "hedgehog|lynx|grey wolf|white stork|pine marten|mountain goat|harbour seal|"
     "swallow|wild boar|raven|salmon|dormouse|golden eagle|water vole|curlew"},
    // Stories.
    {"time_past",
     "long ago|many years ago|one autumn|not so long ago|once upon a time|late one "
     "winter|in the year of the great storm|when the old king was still alive"},
    {"adj_home",
     "small|crooked|whitewashed|drafty|cosy|narrow|stone|timber|tall|lopsided|"
     "ivy-covered|tidy|weathered|cheerful"},
    {"home",
     "cottage|farmhouse|cabin|house|flat above a bakery|mill|lighthouse|houseboat|room at "
     "the inn|caravan|gatehouse"},
    {"home_loc",
     "at the edge of {T}|beside the {R}|on a hill above {T}|in the old quarter of {T}|"
     "at the end of a long lane|near the harbour of {T}|in a valley full of {plants}"},
    {"plants",
     "oak trees|birches|willows|wild roses|foxgloves|pines|apple trees|ferns|poppies|"
     "hawthorn hedges|lavender|sunflowers|bluebells|heather|reeds|chestnut trees"},
    {"routine",
     "fed the hens|swept the yard|walked along the {R}|read by the window|mended old "
     "nets|drew water from the well|climbed the hill behind the house|practised the "
     "violin|watered the garden|wrote letters to distant friends|baked bread for the "
     "neighbours|chopped firewood"},
    {"day_part", "evening|morning|afternoon|night|Sunday|market day"},
    {"found", "found|discovered|noticed|came across|dug up|spotted|stumbled upon"},
    {"adj_obj",
     "rusty|tiny|painted|curious|dusty|silver|broken|wooden|heavy|faded|glittering|"
     "ancient|carved|battered|delicate|enormous"},
    {"object",
     "key|music box|map|lantern|compass|locket|letter|bottle|clock|chest|telescope|drum|"
     "kettle|mirror|bell|ring|violin|hat|feather|shell|book of poems"},
    {"found_loc",
     "under the floorboards|in the attic|at the bottom of the well|behind a loose "
     "stone|in the reeds by the river|among the roots of an old tree|inside a hollow "
     "log|on the beach after a storm|in a drawer that had been locked for years"},
    {"to_place",
     "home|to the village square|down to the harbour|to the workshop of {F}|across "
     "the fields|up to the ruined tower|to the inn by the bridge"},
    {"job",
     "clockmaker|fisherman|schoolteacher|baker|blacksmith|shepherd|librarian|ferryman|"
     "carpenter|weaver|potter|innkeeper|miller|gardener|painter|sailor|tailor|bookseller"},
    {"wind", "a cold wind|a warm breeze|a gusty wind|a soft wind|a salty wind from the sea"},
    {"path",
     "along the muddy path|through the orchard|over the old bridge|past the churchyard|"
     "beside the frozen pond|down the winding road"},
    {"emotion",
     "curious|uneasy|hopeful|restless|cheerful|lonely|proud|nervous|excited|calm|"
     "puzzled|determined|homesick|grateful"},
    {"plan",
     "find out where it had come from|keep it a secret|write to {his} sister|ask the "
     "oldest people in {T}|follow the old road north|visit the library in the city|wait "
     "until the spring|return it to its owner"},
    {"landmark",
     "old bridge|chapel|crossroads|windmill|market hall|lighthouse|town gate|stone "
     "circle|fountain|clock tower|ruined abbey|watermill"},
    {"color", "grey|pink|deep blue|gold|orange|violet|silver|amber|crimson|pale yellow"},
    {"said", "said|whispered|called|replied|muttered|laughed"},
    {"line",
     "We should tell someone about this|I have a feeling this is only the beginning|Let "
     "us go before it gets dark|My grandmother used to tell a story like this|Nobody "
     "will believe us|Put the kettle on and we will think about it|I knew something "
     "strange would happen today"},
    {"time_unit", "week|summer|winter|day|year|journey|spring"},
    // Places.
    {"adj_place",
     "quiet|busy|sleepy|windswept|prosperous|crowded|remote|peaceful|lively|"
     "picturesque|old|small|hilly|colourful|walled"},
    {"settlement",
     "village|market town|fishing port|river town|mountain village|cathedral city|"
     "harbour town|hamlet|county town"},
    {"region",
     "in the hills of the north|on the edge of a great forest|at the mouth of the {R}|on "
     "the banks of the {R}|between two long ridges|on a rocky stretch of coast|in a "
     "broad green valley|beside a wide grey lake"},
    {"buildings",
     "timber-framed houses|small shops|stone cottages|old warehouses|cafes|churches|"
     "tall brick houses|workshops|tea rooms|walled gardens"},
    {"season", "spring|summer|autumn|winter|early spring|late autumn|midsummer"},
    {"nature_scene",
     "the hills around the town turn {color}|the {R} floods the meadows|swallows "
     "nest under every roof|the fields are full of {plants}|snow closes the "
     "mountain passes|fog rolls in from the sea every morning|the orchards are "
     "heavy with fruit"},
    {"adj_old", "old|famous|crumbling|restored|medieval|great|ancient|beloved"},
    {"landmark_fact",
     "was built by local masons|overlooks the main square|can be seen from miles "
     "away|is lit with lanterns at night|appears in many paintings|was once used "
     "as a prison|still rings its bell every morning"},
    {"jobs",
     "farmers|fishermen|weavers|shopkeepers|carpenters|teachers|potters|boat builders|"
     "shepherds|bakers|musicians|beekeepers|stonemasons"},
    {"market_scene",
     "farmers bring cheese, bread and honey from the nearby villages|the square "
     "fills with stalls selling cloth and pottery|musicians play on the steps of "
     "the town hall|traders arrive from across the {R}"},
    {"weekday", "Monday|Wednesday|Thursday|Saturday|Sunday morning"},
    {"high_point", "hill|church tower|old wall|lighthouse|ridge"},
    {"view",
     "the whole valley|the sea and the distant islands|the snowy peaks to the north|the "
     "{R} winding through the fields|the roofs of the old town"},
    {"quality",
     "hospitality|stubbornness|love of music|fine embroidery|strong cheese|long "
     "memories|skill with boats|sense of humour|autumn festival"},
    {"distance", "a day's ride|half a day's walk|several hours by train|two days by cart"},
    {"road",
     "winds through the forest|follows the {R}|climbs over the pass|is often closed by "
     "snow"},
    {"adj_praise", "charming|beautiful|peaceful|welcoming|remarkable|unusual|delightful"},
    // History.
    {"ordinal", "ninth|tenth|eleventh|twelfth|thirteenth|fourteenth|fifteenth|sixteenth"},
    {"founders",
     "monks from the south|a group of fishing families|traders travelling along the "
     "{R}|farmers escaping a long war|a minor lord and his followers|settlers from "
     "across the sea|miners looking for silver"},
    {"small_adj", "small|modest|poor|quiet|humble"},
    {"product",
     "wool|salted fish|pottery|apples|timber|wine|iron tools|linen|cheese|rope|glass|"
     "honey|lace|slate"},
    {"era",
     "age of sail|years of peace that followed|reign of the old kings|time of the great "
     "fairs|coming of the railway|boom in the wool trade"},
    {"growth",
     "merchants built warehouses along the {R}|new roads connected it to the capital|"
     "craftsmen arrived from distant towns|its harbour was deepened for larger ships"},
    {"building",
     "town hall|cathedral|stone bridge|market cross|guild hall|castle|library|abbey "
     "church"},
    {"builders",
     "local craftsmen|a wealthy merchant family|the monks of the abbey|masons from "
     "the capital|the town council"},
    {"disaster", "fire|flood|storm|earthquake"},
    {"material", "stone|brick|timber|grey granite|red sandstone"},
    {"profession",
     "poet|painter|explorer|astronomer|composer|mapmaker|architect|novelist|"
     "botanist|engineer|sculptor"},
    {"name_any", "{name_f}|{name_m}"},
    {"achievement",
     "wrote a famous history of the region|sailed to the far islands|designed the "
     "bridge over the {R}|collected the old songs of the valley|charted the "
     "northern coast|built the first observatory in the country"},
    {"document", "oldest charter|earliest tax roll|parish register|town chronicle"},
    {"record",
     "the market was granted its rights by the king|the town once had seven mills|the "
     "{R} froze solid for three months|a travelling circus visited every summer|two "
     "rival families fought over the harbour for a generation"},
    {"old_trade", "wool trade|fishing fleet|silver mines|salt works|shipyards"},
    {"new_trade", "farming|tourism|small crafts|brewing|printing|orchards"},
    // Nature.
    {"shy_adj", "shy|curious|patient|clever|graceful|hardy|secretive|restless|watchful|sociable"},
    {"habitat",
     "in woods and hedgerows across the region|along rivers and quiet streams|on rocky "
     "coasts and islands|in high mountain meadows|in marshes and reed beds|in farmland "
     "and open country|in old forests far from towns"},
    {"food",
     "insects and worms|fish and frogs|berries and roots|small rodents|seeds and grasses|"
     "acorns and beetles|shellfish|leaves and bark"},
    {"active_time",
     "at dawn and dusk|at night|in the early morning|during the warmer months|on "
     "calm grey days"},
    {"seasonal",
     "raises its young in a hidden den|gathers in large groups|travels long distances "
     "to find food|grows a thicker coat|builds a nest of sticks and moss|becomes "
     "much harder to find"},
    {"feature",
     "keen eyesight|thick coat|long legs|sharp hearing|sharp claws|sense of smell|"
     "quiet movement|colouring"},
    {"help",
     "survive the cold winters|hide from larger animals|catch its prey|move quickly "
     "through dense cover|find food under the snow"},
    {"myth",
     "bring good luck to travellers|guard hidden treasure|know the way through any forest|"
     "warn villagers of coming storms|carry messages between the living and the spirits"},
    {"trend", "grown|fallen|recovered"},
    {"reason",
     "of changes in farming|hedgerows were replanted|rivers became cleaner|old "
     "woodlands were cut down|new reserves were created"},
    // Dialogue.
    {"greeting", "Good morning|Hello|Good evening|Hello there|Ah, there you are"},
    {"question_line",
     "Have you seen my {object}?|Are you going to the market today?|Did you hear "
     "the news from {T}?|Would you like to come for a walk?|Is it true that the "
     "bridge is closed?|What are you reading?|Could you help me carry these "
     "boxes?"},
    {"answer_line",
     "Not since yesterday|I was just about to leave|Only a little, but tell me "
     "everything|Of course, give me a moment to find my coat|I think so, but "
     "nobody seems sure|It is a book about old ships|Yes, if you carry the "
     "lighter ones"},
    {"comment_line",
     "I have been looking everywhere|The weather looks like it will turn|"
     "Everyone is talking about it|I thought you might say that|We could stop "
     "at the bakery on the way|My brother says the {R} is higher than ever"},
    {"gesture",
     "smiling|shaking {his} head|looking out of the window|pulling on {his} gloves|"
     "laughing softly|sitting down by the fire"},
    {"pause",
     "paused for a moment|put down the cup|looked up from the garden|thought about it|"
     "nodded slowly"},
    {"reply_line",
     "Then we had better go now.|Let me ask my neighbour first.|I remember something "
     "like this happening years ago.|Perhaps it is in the kitchen after all.|That "
     "would be lovely."},
};

// A paragraph is an opener, three to five sentences from its pool, and a closer.
struct Paragraph {
  const char* opener;
  Choices pool, closers;
};
const Paragraph kParagraphs[] = {
    {"{time_past}, {H} lived in a {adj_home} {home} {home_loc}. One {day_part}, {he} {found} a "
     "{O} {found_loc}.",
     {"Every morning {he} {routine}.|{He} took the {O} {to_place} and showed it to {F}.|{F} "
      "turned it over slowly and frowned.|{F} suggested asking the old {job} in {T}.|{wind} blew "
      "as {he} walked {path}.|{He} felt {emotion} and decided to {plan}.|By the time {he} "
      "reached the {landmark}, the sky had turned {color}.|\"{line},\" {said} {F}.|Nobody in "
      "{T} had ever seen anything like the {O}."},
     {"From that day on, {H} never forgot the {O}.|It was, {he} thought, the "
      "strangest {time_unit} of {his} life.|Years later, {H} still told the story to anyone who "
      "would listen.|The mystery was never solved, but {H} did not mind.|That night {he} went to "
      "bed happier than {he} had been for a long time."}},
    {"{T} is a {adj_place} {settlement} {region}.",
     {"Its streets are lined with {plants} and {buildings}.|In {season}, {nature_scene}.|Visitors "
      "often come to see the {adj_old} {landmark}, which {landmark_fact}.|Most people in {T} work "
      "as {jobs}, {jobs} or {jobs}.|A market is held every {weekday}, when {market_scene}.|From "
      "the top of the {high_point}, you can see {view}.|The people of {T} are proud of their "
      "{quality}.|The nearest city is {distance} away, along a road that {road}."},
     {"Few who visit {T} forget it.|It remains one of the most {adj_praise} places in the "
      "region.|Life in {T} changes slowly, and most of its people like it that way."}},
    {"{T} was founded in the {ordinal} century by {founders}.",
     {"For many years it was a {small_adj} {settlement} known mainly for its {product}.|During "
      "the {era}, {T} grew rapidly as {growth}.|The {building} in the centre of {T} was built by "
      "{builders} and still stands today.|Centuries later, a great {disaster} destroyed much "
      "of the old town, and it was rebuilt in {material}.|{T} is also remembered as the "
      "birthplace of the {profession} {name_any}, who {achievement}.|Its {document} records that "
      "{record}.|Over time, the {old_trade} declined, and the town turned to {new_trade}."},
     {"Today {T} is a {adj_place} {settlement} of narrow lanes and old houses.|Today visitors can "
      "still walk along parts of the old town wall.|Little remains of the medieval town except "
      "its church and a few narrow streets."}},
    {"The {A} is a {shy_adj} creature found {habitat}.",
     {"It feeds mainly on {food} and is most active {active_time}.|In {season}, the {A} "
      "{seasonal}.|Its {feature} helps it {help}.|Walkers sometimes see it along the banks of the "
      "{R}.|In old stories, the {A} was said to {myth}.|Its numbers have {trend} in recent years "
      "because {reason}.|Near {T}, local people call it the {adj_obj} {job} of the woods."},
     {"Many people consider it one of the most {adj_praise} animals of the countryside.|Patient "
      "observers may be lucky enough to see one at close range.|It remains a familiar sight in "
      "the valleys around {T}."}},
    {"\"{greeting}, {F},\" said {H}. \"{question_line}\"",
     {"\"{answer_line},\" {F} replied.|\"{comment_line},\" said {H}, {gesture}.|{F} {pause}. "
      "\"{reply_line}\"|\"{question_line}\" asked {F}.|\"{line},\" {said} {H}."},
     {"They set off together down the lane.|After that, they talked about other things until "
      "the sun went down.|{H} laughed, and the two of them went inside."}},
};

class Grammar {
 public:
  Grammar() {
    for (const Rule& rule : kRules) rules_.emplace(rule.key, Choices(rule.alternatives));
  }

  // Appends `tmpl` with every symbol expanded: bound cast first, then grammar rules.
  void expand_into(std::string& out, std::string_view tmpl, const Vars& cast, Picker& rng) const {
    expand(out, tmpl, [&](std::string_view key, std::string& o) {
      if (const std::string* bound = cast.find(key)) {
        o += *bound;
        return;
      }
      auto rule = rules_.find(key);
      LS_CHECK(rule != rules_.end(), "grammar has no symbol {{{}}}", key);
      expand_into(o, rule->second.pick(rng), cast, rng);
    });
  }

 private:
  std::map<std::string, Choices, std::less<>> rules_;
};

bool is_vowel(char c) { return c == 'a' || c == 'e' || c == 'i' || c == 'o' || c == 'u'; }

// "a" before a vowel becomes "an" (the lexicon avoids words like "hour" and "useful"), and the
// first letter of the sentence, after any opening quote, becomes uppercase.
std::string polish(const std::string& s) {
  std::string out;
  out.reserve(s.size() + 8);
  for (size_t i = 0; i < s.size(); ++i) {
    out += s[i];
    bool word_start = i == 0 || s[i - 1] == ' ' || s[i - 1] == '"';
    if (word_start && (s[i] == 'a' || s[i] == 'A') && i + 2 < s.size() && s[i + 1] == ' ' &&
        is_vowel(s[i + 2]))
      out += 'n';
  }
  size_t first = out.find_first_not_of('"');
  if (first != std::string::npos) out[first] = capitalize(out.substr(first, 1))[0];
  return out;
}

// Binds the paragraph's cast: who it is about, where it happens.
Vars pick_cast(const Grammar& grammar, Picker& rng) {
  Vars cast;
  bool female = rng.chance(50);
  std::string hero, friend_name;
  grammar.expand_into(hero, female ? "{name_f}" : "{name_m}", cast, rng);
  do {
    friend_name.clear();
    grammar.expand_into(friend_name, "{name_any}", cast, rng);
  } while (friend_name == hero);
  std::string town, river = "River ", animal, object;
  grammar.expand_into(town, "{town_a}{town_b}", cast, rng);
  grammar.expand_into(river, "{river}", cast, rng);
  grammar.expand_into(animal, "{animal}", cast, rng);
  grammar.expand_into(object, "{adj_obj} {object}", cast, rng);
  cast.set("H", hero), cast.set("F", friend_name), cast.set("T", town);
  cast.set("R", river), cast.set("A", animal), cast.set("O", object);
  cast.set("he", female ? "she" : "he"), cast.set("He", female ? "She" : "He");
  cast.set("his", female ? "her" : "his");
  return cast;
}

}  // namespace

std::string generate_general_corpus(size_t approx_bytes, uint64_t seed) {
  static const Grammar grammar;
  Picker rng(seed);
  std::string out;
  out.reserve(approx_bytes + 512);
  std::string sentence;
  auto add = [&](std::string_view tmpl, const Vars& cast) {
    sentence.clear();
    grammar.expand_into(sentence, tmpl, cast, rng);
    if (!out.empty() && out.back() != '\n') out += ' ';
    out += polish(sentence);
    return out.size() >= approx_bytes;
  };
  while (out.size() < approx_bytes) {
    if (!out.empty()) out += "\n\n";
    const Paragraph& p = rng.pick(kParagraphs);
    Vars cast = pick_cast(grammar, rng);
    if (add(p.opener, cast)) break;
    // Three to five different pool sentences, in pool order so stories keep their sequence.
    std::vector<bool> chosen(p.pool.size(), false);
    for (int picked = 0, wanted = rng.range(3, 5); picked < wanted;) {
      int i = rng.below(static_cast<int>(p.pool.size()));
      if (!chosen[i]) {
        chosen[i] = true;
        ++picked;
      }
    }
    bool full = false;
    for (size_t i = 0; i < chosen.size() && !full; ++i)
      if (chosen[i]) full = add(p.pool[i], cast);
    if (full || add(p.closers.pick(rng), cast)) break;
  }
  return out;
}

}  // namespace ls::datagen
