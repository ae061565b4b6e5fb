// Grade-school word problems with worked solutions, in the style of GSM8K. Every template
// computes its own numbers, and every working line is an exact integer equation evaluated left
// to right ("a * b = c", "a / b * c = d"), so tests can re-check all of them mechanically.
#include <fmt/format.h>

#include <array>

#include "experiments/datagen/datagen_common.h"

namespace ls::datagen {
namespace {

struct Person {
  const char* name;
  bool female;
};
constexpr Person kPeople[] = {
    {"Maya", true},    {"Liam", false},  {"Sofia", true},   {"Noah", false},  {"Priya", true},
    {"Mateo", false},  {"Chloe", true},  {"Ethan", false},  {"Amara", true},  {"Lucas", false},
    {"Zoe", true},     {"Omar", false},  {"Hannah", true},  {"Diego", false}, {"Aisha", true},
    {"Kenji", false},  {"Grace", true},  {"Samuel", false}, {"Leila", true},  {"Ryan", false},
    {"Nadia", true},   {"Tariq", false}, {"Emily", true},   {"Jonah", false}, {"Ines", true},
    {"Marcus", false}, {"Fatima", true}, {"Ben", false},    {"Yuki", true},   {"Carlos", false},
    {"Lucy", true},    {"Andre", false}, {"Mei", true},     {"Isaac", false}, {"Rosa", true},
    {"Tomas", false},  {"Julia", true},  {"Kwame", false},  {"Nina", true},   {"Daniel", false},
};

// singular/plural pairs of things children buy, collect and share.
const Choices kItems(
    "pencil/pencils|apple/apples|sticker/stickers|marble/marbles|notebook/notebooks|"
    "cookie/cookies|toy car/toy cars|comic book/comic books|orange/oranges|cupcake/cupcakes|"
    "balloon/balloons|eraser/erasers|baseball card/baseball cards|seashell/seashells|"
    "crayon/crayons|muffin/muffins|bracelet/bracelets|puzzle/puzzles|sandwich/sandwiches|"
    "pear/pears|ribbon/ribbons|candle/candles|kite/kites|postcard/postcards|lemon/lemons");
const Choices kProducts(
    "bicycle|backpack|board game|pair of sneakers|desk lamp|skateboard|guitar|winter coat|"
    "scooter|tennis racket|telescope|fishing rod|camera|rug|tent|toaster|bookshelf|watch");
const Choices kJobs(  // third person/base verb/what is made per hour
    "packs/pack/boxes|bakes/bake/loaves of bread|paints/paint/fence boards|plants/plant/trees|"
    "folds/fold/paper cranes|sews/sew/buttons|washes/wash/cars|picks/pick/baskets of berries|"
    "builds/build/birdhouses|knits/knit/scarves|prints/print/posters|stacks/stack/chairs");
const Choices kDays("Monday|Tuesday|Wednesday|Thursday|Friday|Saturday|Sunday");
const Choices kSurfaces(  // rectangle to cover/covering sold by the square meter
    "kitchen floor/tiles|patio/stone slabs|bedroom floor/carpet|garden bed/fresh soil|"
    "classroom floor/wooden boards|hallway/rubber mats|playground/soft turf|lawn/grass seed");
const Choices kYards("garden|backyard|vegetable patch|chicken pen|playground|field|pond");
const Choices kVehicles("train|bus|truck|ferry|delivery van|cyclist|tractor|sailboat");
const Choices kRelatives("aunt|uncle|cousin|grandparents|old friend|pen pal");
const Choices kGroups(  // place/members/first part/rest
    "school/students/walk to school/ride the bus|farm/animals/are sheep/are goats|"
    "orchard/trees/are apple trees/are cherry trees|club/members/play chess/play checkers|"
    "bakery/cakes/are chocolate/are vanilla|garden/flowers/are tulips/are daisies|"
    "parking lot/cars/are red/are blue|summer camp/campers/swim/hike|zoo/birds/are parrots/"
    "are owls|library/books/are novels/are picture books");

// Splits a table entry such as "pencil/pencils" into its fields.
std::vector<std::string> parts(const std::string& entry) { return Choices(entry, '/').all(); }

// A template fills its own numbers into `v`; {ans} must be the final equation's result.
struct Template {
  const char* question;
  const char* working;
  void (*numbers)(Picker&, Vars&);
};

void set(Vars& v, std::string_view key, int64_t n) { v.set(key, std::to_string(n)); }

const Template kTemplates[] = {
    {"{Name} buys {a} {items} at ${p} each and pays with a ${bill} bill. How much change does "
     "{he} get back?",
     "The {items} cost {a} * ${p} = ${cost}. The change is ${bill} - ${cost} = ${ans}.",
     [](Picker& r, Vars& v) {
       int a = r.range(2, 9), p = r.range(1, 9), cost = a * p;
       int bill = cost < 20 ? 20 : cost < 50 ? 50 : 100;
       set(v, "a", a), set(v, "p", p), set(v, "cost", cost), set(v, "bill", bill);
       set(v, "ans", bill - cost);
     }},
    {"{Name} buys {a} {items} for ${p} each and {b} {items2} for ${q} each. How much does {he} "
     "spend in all?",
     "The {items} cost {a} * ${p} = ${c1}. The {items2} cost {b} * ${q} = ${c2}. Together that "
     "is ${c1} + ${c2} = ${ans}.",
     [](Picker& r, Vars& v) {
       int a = r.range(2, 12), p = r.range(1, 15), b = r.range(2, 12), q = r.range(1, 15);
       set(v, "a", a), set(v, "p", p), set(v, "b", b), set(v, "q", q);
       set(v, "c1", a * p), set(v, "c2", b * q), set(v, "ans", a * p + b * q);
     }},
    {"{Name} {job_s} {r} {made} every hour. {He} works {h1} hours on {day1} and {h2} hours on "
     "{day2}. How many {made} does {he} {job} in total?",
     "{He} works {h1} + {h2} = {h} hours. At {r} {made} per hour, that is {r} * {h} = {ans} "
     "{made}.",
     [](Picker& r, Vars& v) {
       int rate = r.range(3, 25), h1 = r.range(2, 9), h2 = r.range(2, 9);
       set(v, "r", rate), set(v, "h1", h1), set(v, "h2", h2), set(v, "h", h1 + h2);
       set(v, "ans", rate * (h1 + h2));
     }},
    {"{Name} is {k} times as old as {Other}. {Other} is {b} years old. How old will {Name} be "
     "in {n} years?",
     "{Name} is {k} * {b} = {x} years old now. In {n} years {he} will be {x} + {n} = {ans} years "
     "old.",
     [](Picker& r, Vars& v) {
       int k = r.range(2, 5), b = r.range(2, 14), n = r.range(2, 20);
       set(v, "k", k), set(v, "b", b), set(v, "n", n), set(v, "x", k * b);
       set(v, "ans", k * b + n);
     }},
    {"In {n} years, {Name} will be {x} years old. {Other} is {d} years younger than {Name}. How "
     "old is {Other} now?",
     "{Name} is {x} - {n} = {y} years old now, so {Other} is {y} - {d} = {ans} years old.",
     [](Picker& r, Vars& v) {
       int n = r.range(2, 15), y = r.range(12, 60), d = r.range(1, y - 5);
       set(v, "n", n), set(v, "x", y + n), set(v, "y", y), set(v, "d", d), set(v, "ans", y - d);
     }},
    {"{Name} has {n} {items}. {He} gives {p}/{q} of them to {Other} and then buys {m} more. How "
     "many {items} does {Name} have now?",
     "{Other} gets {n} / {q} * {p} = {g} {items}. That leaves {n} - {g} = {l}. After buying more, "
     "{Name} has {l} + {m} = {ans}.",
     [](Picker& r, Vars& v) {
       int q = r.pick(std::array{2, 3, 4, 5, 6, 8, 10}), p = r.range(1, q - 1);
       int n = q * r.range(2, 12), g = n / q * p, m = r.range(1, 20);
       set(v, "q", q), set(v, "p", p), set(v, "n", n), set(v, "g", g), set(v, "m", m);
       set(v, "l", n - g), set(v, "ans", n - g + m);
     }},
    {"{Name} wants a {product} that usually costs ${p}. The store is selling it at {d}% off. How "
     "many dollars does {he} pay?",
     "The discount is ${p} * {d} / 100 = ${off}. {He} pays ${p} - ${off} = ${ans}.",
     [](Picker& r, Vars& v) {
       int p = 20 * r.range(1, 25), d = 5 * r.range(1, 15), off = p * d / 100;
       set(v, "p", p), set(v, "d", d), set(v, "off", off), set(v, "ans", p - off);
     }},
    {"A {place} has {n} {members}. {d}% of the {members} {part} and the rest {rest}. How many "
     "{members} {rest}?",
     "{d}% of {n} is {n} * {d} / 100 = {k}. So {n} - {k} = {ans} {members} {rest}.",
     [](Picker& r, Vars& v) {
       auto g = parts(r.pick(kGroups.all()));
       int n = 20 * r.range(2, 30), d = 5 * r.range(1, 19), k = n * d / 100;
       v.set("place", g[0]), v.set("members", g[1]), v.set("part", g[2]), v.set("rest", g[3]);
       set(v, "n", n), set(v, "d", d), set(v, "k", k), set(v, "ans", n - k);
     }},
    {"A rectangular {surface} is {l} meters long and {w} meters wide. {Name} covers it with "
     "{cover} that cost ${c} per square meter. How many dollars does {he} spend?",
     "The area is {l} * {w} = {area} square meters. The cost is {area} * ${c} = ${ans}.",
     [](Picker& r, Vars& v) {
       auto s = parts(r.pick(kSurfaces.all()));
       int l = r.range(3, 20), w = r.range(2, 12), c = r.range(2, 30);
       v.set("surface", s[0]), v.set("cover", s[1]);
       set(v, "l", l), set(v, "w", w), set(v, "c", c), set(v, "area", l * w);
       set(v, "ans", l * w * c);
     }},
    {"{Name} wants to put a fence around a rectangular {yard} that is {l} meters long and {w} "
     "meters wide. Fencing costs ${c} per meter. How many dollars will the fence cost?",
     "The perimeter is {l} + {w} + {l} + {w} = {per} meters. The fence costs {per} * ${c} = "
     "${ans}.",
     [](Picker& r, Vars& v) {
       int l = r.range(4, 40), w = r.range(3, 25), c = r.range(2, 15);
       v.set("yard", kYards.pick(r));
       set(v, "l", l), set(v, "w", w), set(v, "c", c), set(v, "per", 2 * (l + w));
       set(v, "ans", 2 * (l + w) * c);
     }},
    {"A {vehicle} travels at {s1} kilometers per hour for {t1} hours and then at {s2} kilometers "
     "per hour for {t2} hours. How many kilometers does it travel in total?",
     "First it covers {s1} * {t1} = {d1} kilometers. Then it covers {s2} * {t2} = {d2} "
     "kilometers. The total is {d1} + {d2} = {ans} kilometers.",
     [](Picker& r, Vars& v) {
       int s1 = 5 * r.range(2, 20), t1 = r.range(1, 6), s2 = 5 * r.range(2, 20), t2 = r.range(1, 6);
       v.set("vehicle", kVehicles.pick(r));
       set(v, "s1", s1), set(v, "t1", t1), set(v, "s2", s2), set(v, "t2", t2);
       set(v, "d1", s1 * t1), set(v, "d2", s2 * t2), set(v, "ans", s1 * t1 + s2 * t2);
     }},
    {"{Name} drives {d} kilometers to visit {his} {relative} at an average speed of {s} "
     "kilometers per hour. How many hours does the trip take?",
     "Time is distance divided by speed, so the trip takes {d} / {s} = {ans} hours.",
     [](Picker& r, Vars& v) {
       int s = 10 * r.range(3, 12), t = r.range(2, 9);
       v.set("relative", kRelatives.pick(r));
       set(v, "s", s), set(v, "d", s * t), set(v, "ans", t);
     }},
    {"{Name} has {n} {items}. {He} keeps {k} for {himself} and shares the rest equally among {f} "
     "friends. How many {items} does each friend get?",
     "After keeping {k}, {he} has {n} - {k} = {rest} {items} left. Each friend gets {rest} / {f} "
     "= {ans}.",
     [](Picker& r, Vars& v) {
       int f = r.range(2, 9), each = r.range(2, 15), k = r.range(1, 12);
       set(v, "f", f), set(v, "k", k), set(v, "rest", f * each), set(v, "n", f * each + k);
       set(v, "ans", each);
     }},
    {"{Name} wants to buy a {product} that costs ${c}. {He} has already saved ${s} and saves ${w} "
     "every week. How many more weeks does {he} need to save?",
     "{He} still needs ${c} - ${s} = ${need}. At ${w} a week that takes {need} / {w} = {ans} "
     "weeks.",
     [](Picker& r, Vars& v) {
       int w = r.range(3, 25), weeks = r.range(2, 20), s = r.range(5, 120);
       set(v, "w", w), set(v, "s", s), set(v, "need", w * weeks), set(v, "c", s + w * weeks);
       set(v, "ans", weeks);
     }},
    {"{n} {items} cost ${c}. How many dollars do {m} {items} cost?",
     "One {item} costs ${c} / {n} = ${u}. So {m} {items} cost {m} * ${u} = ${ans}.",
     [](Picker& r, Vars& v) {
       int n = r.range(2, 12), u = r.range(1, 20), m = r.range(2, 25);
       while (m == n) m = r.range(2, 25);
       set(v, "n", n), set(v, "c", n * u), set(v, "u", u), set(v, "m", m), set(v, "ans", m * u);
     }},
};

// Names, pronouns and objects every template may use.
void set_cast(Picker& r, Vars& v) {
  const Person& hero = r.pick(kPeople);
  const Person* other = &r.pick(kPeople);
  while (other == &hero) other = &r.pick(kPeople);
  v.set("Name", hero.name), v.set("Other", other->name);
  v.set("he", hero.female ? "she" : "he"), v.set("He", hero.female ? "She" : "He");
  v.set("his", hero.female ? "her" : "his"), v.set("himself", hero.female ? "herself" : "himself");
  auto item = parts(kItems.pick(r)), item2 = parts(kItems.pick(r));
  while (item2 == item) item2 = parts(kItems.pick(r));
  v.set("item", item[0]), v.set("items", item[1]), v.set("items2", item2[1]);
  v.set("product", kProducts.pick(r));
  auto job = parts(kJobs.pick(r));
  v.set("job_s", job[0]), v.set("job", job[1]), v.set("made", job[2]);
  int day1 = r.below(7), day2 = (day1 + r.range(1, 6)) % 7;
  v.set("day1", kDays[day1]), v.set("day2", kDays[day2]);
}

}  // namespace

QAExample make_math_example(Picker& rng) {
  const Template& t = rng.pick(kTemplates);
  Vars v;
  set_cast(rng, v);
  t.numbers(rng, v);
  return {capitalize(fill(t.question, v)),
          fill(t.working, v) + fmt::format(" The answer is {}.", v.get("ans"))};
}

}  // namespace ls::datagen
