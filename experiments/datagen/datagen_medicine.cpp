// Consumer health questions in the style of MedQuAD. Answers are assembled from one fact table,
// so every question about a condition states the same facts about it; only the wording varies.
#include "experiments/datagen/datagen_common.h"

namespace ls::datagen {
namespace {

// Lists are '|'-separated noun phrases (prevention: gerund phrases) that read well when joined.
struct Condition {
  const char *name, *specialist, *what, *symptoms, *causes, *treatments, *tests, *risks,
      *prevention;
};

const Condition kConditions[] = {
    {"asthma", "a pulmonologist",
     "a long-term disease in which the airways of the lungs become inflamed and narrow",
     "wheezing|shortness of breath|chest tightness|coughing at night",
     "oversensitive airways|allergens such as pollen and dust mites|cold air or exercise",
     "inhaled corticosteroids|quick-relief bronchodilator inhalers|a written asthma action plan",
     "spirometry|peak flow measurement|allergy testing",
     "a family history of allergies|exposure to tobacco smoke|obesity",
     "avoiding known triggers|taking controller medicines every day"},
    {"type 2 diabetes", "an endocrinologist",
     "a long-term condition in which the body does not use insulin properly, so blood sugar stays "
     "too high",
     "increased thirst|frequent urination|blurred vision|slow-healing sores",
     "insulin resistance|a pancreas that makes too little insulin|excess body weight",
     "healthy eating and regular exercise|metformin|insulin injections in some cases",
     "a fasting blood glucose test|the hemoglobin A1C test|an oral glucose tolerance test",
     "being overweight|physical inactivity|a family history of diabetes|age over 45",
     "keeping a healthy weight|staying physically active|eating whole grains and vegetables"},
    {"high blood pressure", "a cardiologist",
     "a condition in which the force of blood against the artery walls stays too high, often "
     "without any warning signs",
     "morning headaches|nosebleeds|dizziness|blurred vision",
     "stiffening of the arteries|too much salt in the diet|kidney disease|some hormone disorders",
     "eating less salt|ACE inhibitors|diuretics|calcium channel blockers",
     "repeated blood pressure readings|home blood pressure monitoring|blood and urine tests",
     "older age|obesity|a diet high in salt|heavy alcohol use",
     "eating less salt|exercising regularly|limiting alcohol|not smoking"},
    {"migraine", "a neurologist",
     "a neurological condition that causes repeated attacks of severe, throbbing headache",
     "throbbing pain on one side of the head|nausea|sensitivity to light and sound|visual aura",
     "changes in brain chemistry|hormonal changes|stress|missed meals or poor sleep",
     "pain relievers taken early in an attack|triptans|preventive medicines such as beta blockers",
     "a detailed headache history|a neurological examination|an MRI scan to rule out other causes",
     "a family history of migraine|being female|hormonal changes",
     "keeping a headache diary to find triggers|regular sleep and meals|managing stress"},
    {"pneumonia", "a pulmonologist",
     "an infection that inflames the air sacs in one or both lungs, which may fill with fluid",
     "cough with phlegm|fever and chills|shortness of breath|chest pain when breathing",
     "bacteria such as Streptococcus pneumoniae|viruses including influenza|fungi",
     "antibiotics for bacterial pneumonia|rest and fluids|fever reducers|oxygen therapy",
     "a chest X-ray|pulse oximetry|blood tests|a sputum culture",
     "age over 65|smoking|a weakened immune system|chronic lung disease",
     "getting the pneumococcal vaccine|getting a yearly flu shot|not smoking|washing hands often"},
    {"influenza", "a primary care doctor",
     "a contagious respiratory illness caused by influenza viruses",
     "sudden fever|muscle aches|sore throat|extreme tiredness|dry cough",
     "influenza A and B viruses|droplets from coughs and sneezes|touching contaminated surfaces",
     "rest and plenty of fluids|antiviral medicines such as oseltamivir|fever reducers",
     "a rapid influenza test|a PCR test from a nasal swab",
     "age over 65|pregnancy|early childhood|chronic heart or lung disease",
     "getting a yearly flu vaccine|washing hands often|staying home when sick"},
    {"chronic obstructive pulmonary disease", "a pulmonologist",
     "a long-term lung disease that blocks airflow and makes breathing difficult",
     "a persistent cough with mucus|shortness of breath during activity|wheezing|chest infections",
     "long-term cigarette smoking|breathing in dust and fumes|alpha-1 antitrypsin deficiency",
     "quitting smoking|inhaled bronchodilators|pulmonary rehabilitation|oxygen therapy",
     "spirometry|a chest X-ray|arterial blood gas analysis",
     "smoking|long-term exposure to workplace dust|age over 40",
     "not smoking|avoiding lung irritants|wearing protective masks at work"},
    {"osteoarthritis", "a rheumatologist",
     "a degenerative joint disease in which the cartilage that cushions the ends of bones wears "
     "down",
     "joint pain|stiffness after rest|swelling around the joint|a grating feeling when moving",
     "wear and tear on the joints|previous joint injuries|extra weight on the joints",
     "physical therapy|acetaminophen|corticosteroid injections|joint replacement surgery",
     "a physical examination of the joints|X-rays|joint fluid analysis",
     "older age|obesity|joint injuries|repetitive stress on a joint",
     "keeping a healthy weight|low-impact exercise|protecting the joints from injury"},
    {"rheumatoid arthritis", "a rheumatologist",
     "an autoimmune disease in which the immune system attacks the lining of the joints",
     "tender swollen joints|morning stiffness lasting over an hour|fatigue|symmetric joint pain",
     "an abnormal immune response|genetic factors|environmental triggers such as smoking",
     "methotrexate|biologic medicines|anti-inflammatory drugs|physical therapy",
     "rheumatoid factor blood tests|anti-CCP antibody tests|X-rays of the hands and feet",
     "being female|a family history of the disease|smoking|middle age",
     "not smoking|keeping a healthy weight"},
    {"gout", "a rheumatologist",
     "a form of arthritis caused by uric acid crystals building up in a joint",
     "sudden intense pain in the big toe|red swollen joints|warmth in the joint|limited movement",
     "high uric acid in the blood|a diet rich in red meat and shellfish|fructose-sweetened drinks",
     "anti-inflammatory drugs during attacks|colchicine|allopurinol to lower uric acid",
     "a joint fluid test|a blood uric acid test|dual-energy CT scanning",
     "a diet high in purines|heavy alcohol use|obesity|being male",
     "limiting alcohol|eating less red meat|staying hydrated|keeping a healthy weight"},
    {"osteoporosis", "an endocrinologist",
     "a condition in which bones become weak and brittle so that they break easily",
     "back pain from a fractured vertebra|loss of height|a stooped posture|fractures after falls",
     "bone loss outpacing new bone growth|low estrogen after menopause|low calcium intake",
     "bisphosphonates|calcium and vitamin D supplements|weight-bearing exercise",
     "a bone density scan|blood tests for calcium and vitamin D",
     "being female|older age|a small body frame|long-term steroid use",
     "getting enough calcium and vitamin D|weight-bearing exercise|avoiding smoking"},
    {"iron deficiency anemia", "a hematologist",
     "a condition in which the blood lacks healthy red blood cells because the body is short of "
     "iron",
     "extreme fatigue|pale skin|shortness of breath|cold hands and feet|brittle nails",
     "blood loss from heavy periods or ulcers|a diet low in iron|poor iron absorption|pregnancy",
     "iron supplements|iron-rich foods|treating the source of bleeding|intravenous iron",
     "a complete blood count|serum ferritin tests|tests to find hidden bleeding",
     "heavy menstrual periods|pregnancy|a vegetarian diet low in iron|frequent blood donation",
     "eating iron-rich foods such as beans and leafy greens|eating foods rich in vitamin C"},
    {"hypothyroidism", "an endocrinologist",
     "a condition in which the thyroid gland does not make enough thyroid hormone",
     "fatigue|weight gain|feeling cold|dry skin|constipation",
     "Hashimoto's thyroiditis|thyroid surgery|radioactive iodine treatment|too little iodine",
     "daily levothyroxine tablets|regular blood tests to adjust the dose",
     "a TSH blood test|a free T4 blood test|thyroid antibody tests",
     "being female|age over 60|a family history of thyroid disease|other autoimmune diseases",
     "getting enough iodine|regular thyroid checks for people at high risk"},
    {"kidney stone disease", "a urologist",
     "a condition in which hard deposits of minerals and salts form inside the kidneys",
     "severe pain in the side and back|pain spreading to the groin|pink or brown urine|vomiting",
     "drinking too little water|diets high in salt and oxalate|high calcium in the urine",
     "drinking lots of water|pain relievers|medicines that relax the ureter|shock wave lithotripsy",
     "a CT scan|urine tests|blood tests for calcium and uric acid",
     "dehydration|a family history of stones|obesity|a diet high in salt",
     "drinking plenty of water|eating less salt|limiting foods high in oxalate"},
    {"urinary tract infection", "a urologist",
     "an infection in any part of the urinary system, most often the bladder",
     "a burning feeling when urinating|a frequent urge to urinate|cloudy urine|pelvic pain",
     "bacteria such as E. coli entering the urethra|incomplete emptying of the bladder|catheters",
     "antibiotics|drinking plenty of fluids|bladder pain relievers",
     "a urinalysis|a urine culture|an ultrasound for repeated infections",
     "being female|sexual activity|menopause|use of a urinary catheter",
     "drinking plenty of water|urinating soon after intercourse|wiping from front to back"},
    {"gastroesophageal reflux disease", "a gastroenterologist",
     "a digestive disorder in which stomach acid often flows back into the esophagus",
     "heartburn|regurgitation of sour liquid|trouble swallowing|chest pain after meals",
     "a weak lower esophageal sphincter|a hiatal hernia|large fatty meals",
     "antacids|H2 blockers|proton pump inhibitors|eating smaller meals",
     "an upper endoscopy|esophageal pH monitoring|a barium swallow X-ray",
     "obesity|pregnancy|smoking|eating late at night",
     "keeping a healthy weight|avoiding meals close to bedtime|raising the head of the bed"},
    {"irritable bowel syndrome", "a gastroenterologist",
     "a common disorder of the large intestine that affects how the gut works without damaging it",
     "abdominal cramping|bloating|diarrhea or constipation|mucus in the stool",
     "oversensitive nerves in the gut|changes in gut bacteria|stress|certain foods",
     "a low-FODMAP diet|fiber supplements|antispasmodic medicines|stress management",
     "a review of symptoms over time|blood tests to rule out other conditions|a colonoscopy",
     "age under 50|being female|a history of anxiety|a family history of the condition",
     "managing stress|eating regular meals|identifying trigger foods"},
    {"celiac disease", "a gastroenterologist",
     "an immune reaction to eating gluten, a protein found in wheat, barley and rye",
     "diarrhea|bloating and gas|weight loss|an itchy blistering rash",
     "an immune response to gluten|the HLA-DQ2 and HLA-DQ8 genes",
     "a strict lifelong gluten-free diet|vitamin and mineral supplements|help from a dietitian",
     "blood tests for tTG antibodies|a biopsy of the small intestine|genetic testing",
     "a family member with celiac disease|type 1 diabetes|Down syndrome",
     "testing close relatives early|avoiding gluten once diagnosed"},
    {"appendicitis", "a general surgeon",
     "an inflammation of the appendix, a small pouch attached to the large intestine",
     "pain moving from the navel to the lower right abdomen|loss of appetite|nausea|low fever",
     "a blockage in the lining of the appendix|infection|swollen lymph tissue",
     "surgery to remove the appendix|intravenous antibiotics|pain relief",
     "an abdominal examination|blood tests|an ultrasound|a CT scan",
     "age between 10 and 30|being male|a family history of appendicitis",
     "eating a diet rich in fiber"},
    {"hepatitis B", "a hepatologist", "a serious liver infection caused by the hepatitis B virus",
     "yellowing of the skin and eyes|dark urine|abdominal pain|fatigue|loss of appetite",
     "the hepatitis B virus|contact with infected blood or body fluids|birth to an infected mother",
     "antiviral medicines such as tenofovir|regular liver monitoring|a liver transplant",
     "hepatitis B surface antigen tests|liver function tests|a liver ultrasound",
     "unprotected sex|sharing needles|being born to an infected mother|working in health care",
     "getting the hepatitis B vaccine|practicing safe sex|never sharing needles"},
    {"coronary artery disease", "a cardiologist",
     "a disease in which plaque builds up in the arteries that supply blood to the heart",
     "chest pain called angina|shortness of breath|pain in the arm or jaw|fatigue during exercise",
     "cholesterol plaque in the arteries|high blood pressure|smoking damage to artery walls",
     "statins to lower cholesterol|aspirin|angioplasty with a stent|bypass surgery",
     "an electrocardiogram|a cardiac stress test|a coronary angiogram|cholesterol tests",
     "high cholesterol|smoking|diabetes|a family history of heart disease",
     "not smoking|eating a heart-healthy diet|exercising regularly|controlling blood pressure"},
    {"heart failure", "a cardiologist",
     "a chronic condition in which the heart does not pump blood as well as it should",
     "shortness of breath|swollen legs and ankles|fatigue|rapid weight gain from fluid",
     "coronary artery disease|past heart attacks|long-term high blood pressure|faulty valves",
     "ACE inhibitors|beta blockers|diuretics to remove extra fluid|a low-salt diet",
     "an echocardiogram|a BNP blood test|a chest X-ray|an electrocardiogram",
     "high blood pressure|coronary artery disease|diabetes|obesity",
     "controlling blood pressure|not smoking|staying active|limiting salt"},
    {"atrial fibrillation", "a cardiologist",
     "an irregular and often rapid heart rhythm that starts in the upper chambers of the heart",
     "a fluttering or pounding heartbeat|dizziness|shortness of breath|weakness",
     "high blood pressure|heart valve disease|an overactive thyroid|heavy alcohol use",
     "blood thinners to prevent stroke|rate control medicines|cardioversion|catheter ablation",
     "an electrocardiogram|a Holter monitor|an echocardiogram",
     "older age|high blood pressure|heart disease|obesity",
     "limiting alcohol and caffeine|controlling blood pressure|keeping a healthy weight"},
    {"stroke", "a neurologist",
     "an emergency in which blood flow to part of the brain is blocked or a brain vessel bursts",
     "sudden numbness on one side of the body|trouble speaking|a drooping face|loss of balance",
     "a blood clot blocking a brain artery|bleeding from a burst vessel|narrowed arteries",
     "clot-busting medicine given quickly|clot removal procedures|rehabilitation therapy",
     "a CT scan of the head|an MRI scan|a carotid ultrasound",
     "high blood pressure|smoking|atrial fibrillation|diabetes",
     "controlling blood pressure|not smoking|taking prescribed blood thinners"},
    {"epilepsy", "a neurologist", "a brain disorder that causes repeated seizures",
     "seizures|staring spells|uncontrollable jerking of the arms and legs|temporary confusion",
     "genetic factors|head injuries|brain infections|stroke",
     "anti-seizure medicines|a ketogenic diet|vagus nerve stimulation|epilepsy surgery",
     "an electroencephalogram|an MRI scan|blood tests",
     "a family history of epilepsy|head injuries|dementia|childhood brain infections",
     "wearing a helmet to avoid head injuries|taking medicines as prescribed|sleeping enough"},
    {"Parkinson's disease", "a neurologist",
     "a progressive disorder of the nervous system that affects movement",
     "a tremor at rest|slowed movement|stiff muscles|problems with balance",
     "loss of dopamine-producing nerve cells|genetic changes|environmental toxins",
     "levodopa|dopamine agonists|physical therapy|deep brain stimulation",
     "a neurological examination|a DaTscan|a trial of levodopa",
     "age over 60|being male|a family history of the disease|exposure to pesticides",
     "regular aerobic exercise|limiting exposure to pesticides"},
    {"Alzheimer's disease", "a neurologist",
     "a progressive brain disease that slowly destroys memory and thinking skills",
     "memory loss|confusion about time and place|trouble finding words|changes in mood",
     "amyloid plaques|tangles of tau protein|loss of connections between brain cells",
     "cholinesterase inhibitors|memantine|memory aids and routines|support for caregivers",
     "memory and thinking tests|brain imaging|blood tests to rule out other causes",
     "older age|a family history of the disease|head injuries|high blood pressure in midlife",
     "staying physically active|keeping the mind engaged|controlling blood pressure"},
    {"multiple sclerosis", "a neurologist",
     "a disease in which the immune system attacks the protective covering of the nerves",
     "numbness or weakness in the limbs|blurred vision|tingling|problems with coordination",
     "an immune attack on myelin|genetic factors|low vitamin D|past Epstein-Barr virus infection",
     "disease-modifying therapies|corticosteroids for relapses|physical therapy",
     "an MRI scan|a lumbar puncture|evoked potential tests",
     "age between 20 and 40|being female|low vitamin D|smoking",
     "not smoking|getting enough vitamin D"},
    {"depression", "a psychiatrist",
     "a mood disorder that causes a persistent feeling of sadness and loss of interest",
     "persistent sadness|loss of interest in activities|sleep problems|trouble concentrating",
     "changes in brain chemistry|stressful life events|genetic factors|long-term illness",
     "psychotherapy|antidepressant medicines|regular exercise|support groups",
     "a psychological evaluation|mood questionnaires|blood tests to rule out thyroid problems",
     "a family history of depression|traumatic events|chronic illness|substance use",
     "staying connected with friends and family|regular exercise|seeking help early"},
    {"psoriasis", "a dermatologist", "a chronic skin disease that causes red, scaly patches",
     "red patches covered with silvery scales|dry cracked skin|itching|thickened nails",
     "an overactive immune system|genetic factors|triggers such as stress and infections",
     "topical corticosteroids|vitamin D creams|light therapy|biologic medicines",
     "a skin examination|a skin biopsy", "a family history of psoriasis|stress|smoking|obesity",
     "avoiding triggers|moisturizing the skin|not smoking"},
    {"eczema", "a dermatologist", "a condition that makes the skin dry, itchy and inflamed",
     "dry skin|intense itching|red patches|small raised bumps",
     "a weakened skin barrier|an overactive immune response|irritants such as harsh soaps",
     "moisturizing creams|corticosteroid creams|antihistamines for itching|avoiding irritants",
     "a skin examination|patch testing for allergies",
     "a family history of allergies|asthma|hay fever",
     "moisturizing twice a day|using mild soaps|avoiding scratchy fabrics"},
    {"shingles", "a dermatologist", "a painful rash caused by reactivation of the chickenpox virus",
     "a painful blistering rash on one side of the body|burning or tingling|itching|fever",
     "the varicella-zoster virus waking up in nerve tissue|a weakened immune system",
     "antiviral medicines such as acyclovir|pain relievers|cool compresses",
     "an examination of the rash|a swab of the blisters",
     "age over 50|a weakened immune system|past chickenpox", "getting the shingles vaccine"},
    {"Lyme disease", "an infectious disease specialist",
     "a bacterial infection spread to people by the bite of infected ticks",
     "a bull's-eye rash|fever|joint pain|fatigue",
     "the bacterium Borrelia burgdorferi|bites from infected blacklegged ticks",
     "antibiotics such as doxycycline|pain relievers",
     "an examination of the rash|blood tests for antibodies",
     "time spent in wooded areas|ticks left attached for days|exposed skin in tick areas",
     "using insect repellent|wearing long sleeves outdoors|checking for ticks after hikes"},
    {"tuberculosis", "an infectious disease specialist",
     "a serious infection caused by bacteria that mainly attack the lungs",
     "a cough lasting three weeks or longer|coughing up blood|night sweats|weight loss",
     "Mycobacterium tuberculosis bacteria|airborne droplets from coughing",
     "several antibiotics taken for six to nine months|directly observed therapy",
     "a tuberculin skin test|an interferon gamma blood test|a chest X-ray|a sputum test",
     "a weakened immune system|close contact with an infected person|crowded living conditions",
     "treating latent infection|good ventilation|the BCG vaccine where it is used"},
    {"glaucoma", "an ophthalmologist",
     "a group of eye diseases that damage the optic nerve, often because of high eye pressure",
     "gradual loss of side vision|tunnel vision|eye pain|halos around lights",
     "a buildup of fluid in the eye|poor drainage of eye fluid|reduced blood flow to the nerve",
     "prescription eye drops|laser treatment|surgery to improve drainage",
     "eye pressure measurement|a dilated eye exam|a visual field test",
     "age over 60|a family history of glaucoma|high eye pressure|diabetes",
     "regular eye exams|wearing eye protection|using prescribed drops every day"},
    {"cataract", "an ophthalmologist", "a clouding of the normally clear lens of the eye",
     "cloudy or blurry vision|faded colors|glare from lights|poor night vision",
     "aging of the proteins in the lens|diabetes|long-term steroid use|eye injury",
     "stronger glasses early on|surgery to replace the lens",
     "a visual acuity test|a slit-lamp examination|a dilated eye exam",
     "older age|diabetes|smoking|too much sunlight",
     "wearing sunglasses|not smoking|regular eye exams"},
    {"sinusitis", "an ear, nose and throat specialist",
     "an inflammation of the sinuses, the air-filled spaces behind the face",
     "a stuffy nose|thick yellow mucus|pain around the eyes and cheeks|reduced sense of smell",
     "viral infections|bacterial infections|allergies|nasal polyps",
     "saline nasal rinses|nasal corticosteroid sprays|decongestants|antibiotics for bacteria",
     "a nasal endoscopy|a CT scan of the sinuses|allergy testing",
     "allergies|asthma|a deviated septum|smoking",
     "washing hands often|managing allergies|avoiding cigarette smoke"},
    {"sleep apnea", "a sleep specialist",
     "a disorder in which breathing repeatedly stops and starts during sleep",
     "loud snoring|gasping during sleep|morning headaches|daytime sleepiness",
     "relaxed throat muscles blocking the airway|excess weight around the neck|large tonsils",
     "a CPAP machine|weight loss|oral appliances|airway surgery",
     "an overnight sleep study|a home sleep test", "obesity|a thick neck|being male|older age",
     "keeping a healthy weight|avoiding alcohol before bed|sleeping on the side"},
    {"chronic kidney disease", "a nephrologist",
     "a gradual loss of kidney function over months or years",
     "swelling in the feet and ankles|fatigue|changes in urination|itchy skin",
     "diabetes|high blood pressure|long-term kidney inflammation|polycystic kidney disease",
     "controlling blood sugar and blood pressure|ACE inhibitors|a low-protein diet|dialysis",
     "a blood creatinine test|an estimated GFR|a urine albumin test|a kidney ultrasound",
     "diabetes|high blood pressure|a family history of kidney disease|older age",
     "controlling blood sugar|controlling blood pressure|avoiding overuse of painkillers"},
    {"deep vein thrombosis", "a hematologist",
     "a blood clot that forms in a deep vein, usually in the leg",
     "swelling in one leg|leg pain or cramping|red or discolored skin|warmth in the leg",
     "long periods without moving|damage to a vein|conditions that make blood clot easily",
     "blood thinners|compression stockings|clot-dissolving medicine in severe cases",
     "a duplex ultrasound|a D-dimer blood test|venography",
     "long flights or bed rest|recent surgery|pregnancy|smoking",
     "moving the legs during long trips|wearing compression stockings|walking after surgery"},
    {"strep throat", "a primary care doctor", "a bacterial infection of the throat and tonsils",
     "a sore throat that starts quickly|pain when swallowing|red swollen tonsils|fever",
     "group A Streptococcus bacteria|droplets from coughs and sneezes",
     "antibiotics such as penicillin|pain relievers|warm liquids",
     "a rapid strep test|a throat culture",
     "age between 5 and 15|close contact in schools|the winter months",
     "washing hands often|not sharing cups or utensils|covering coughs"},
    {"malaria", "an infectious disease specialist",
     "a disease caused by parasites spread through the bites of infected mosquitoes",
     "high fever|shaking chills|heavy sweating|headache",
     "Plasmodium parasites|bites from infected Anopheles mosquitoes",
     "artemisinin combination therapy|other antimalarial medicines|hospital care in severe cases",
     "a blood smear|a rapid antigen test", "travel to tropical areas|early childhood|pregnancy",
     "sleeping under bed nets|using insect repellent|taking preventive medicines when traveling"},
};

// One question type: alternative phrasings of the question and of the answer's wording.
struct QuestionType {
  Choices questions, answers;
  bool allows_context;  // whether a patient-context sentence may precede the question
};

const QuestionType kTypes[] = {
    {{"What is {name}?|What does it mean to have {name}?|Can you explain what {name} is?|"
      "What should I know about {name}?"},
     {"{Name} is {what}. Typical symptoms include {symptoms}. It is usually managed by "
      "{specialist}, and treatment may include {treatments}.|{Name} is {what}. People with it "
      "may notice {symptoms}. Doctors confirm it with {tests}."},
     true},
    {{"What are the symptoms of {name}?|What are the signs of {name}?|How do I know if I have "
      "{name}?|What does {name} feel like?"},
     {"Common symptoms of {name} include {symptoms}. {Name} is {what}. Anyone with these signs "
      "should see a doctor, who may order {test1}.|People with {name} often have {symptoms}. "
      "Symptoms vary from person to person. Because {name} is {what}, a doctor may confirm it "
      "with {tests}."},
     true},
    {{"What causes {name}?|Why do people get {name}?|What are the causes of {name}?"},
     {"{Name} is {what}. It can be caused by {causes}. Factors that raise the risk include "
      "{risks}.|Known causes of {name} include {causes}. The risk is higher with {risks}."},
     true},
    {{"How is {name} treated?|What are the treatments for {name}?|How do doctors treat {name}?|"
      "What treatment options are there for {name}?"},
     {"Treatment for {name} may include {treatments}. The right plan depends on how severe it "
      "is, and care is often guided by {specialist}.|Doctors usually treat {name} with "
      "{treatments}. Because {name} is {what}, follow-up visits help check that treatment is "
      "working."},
     true},
    {{"How is {name} diagnosed?|What tests are used to diagnose {name}?|How do doctors check "
      "for {name}?"},
     {"To diagnose {name}, a doctor asks about symptoms such as {symptom1} and {symptom2} and "
      "may use {tests}.|{Name} is usually diagnosed with {tests}. The doctor will also ask about "
      "{symptom1} and other symptoms."},
     true},
    {{"Who is at risk for {name}?|Who gets {name}?|What are the risk factors for {name}?"},
     {"Anyone can develop {name}, but the risk is higher with {risks}. {Name} is {what}.|Risk "
      "factors for {name} include {risks}. Having a risk factor does not mean a person will "
      "get {name}, but regular checkups are a good idea."},
     true},
    {{"How can {name} be prevented?|Can {name} be prevented?|What can I do to lower my risk of "
      "{name}?"},
     {"Not every case of {name} can be prevented, but {prevention} can lower the risk. Known "
      "risk factors include {risks}.|The risk of {name} can be lowered by {prevention}. This "
      "matters most for people with {risks}."},
     true},
    {{"What kind of doctor treats {name}?|Which specialist should I see for {name}?|Who should "
      "I see about {name}?"},
     {"{Name} is usually managed by {specialist}, often together with a primary care doctor. "
      "Care may include {treatments}.|A primary care doctor can start the workup, and "
      "{specialist} usually manages {name}. Tests may include {tests}."},
     true},
    {{"I have had {symptom1} and {symptom2} for {duration}. What could be causing it?|What "
      "condition can cause both {symptom1} and {symptom2}?|Could {symptom1} and {symptom2} be "
      "a sign of {name}?"},
     {"{Symptom1} and {symptom2} can have several causes, and one of them is {name}, which is "
      "{what}. Other signs of {name} include {other_symptoms}. A doctor can check for it with "
      "{tests}."},
     false},
};

const Choices kRelatives(
    "father|mother|husband|wife|son|daughter|brother|sister|grandfather|grandmother|neighbor|"
    "coworker|roommate|best friend");
const Choices kContexts(
    "My {relative} was recently diagnosed with {name}. |I am {age} years old. |My {relative} "
    "is {age} and may have {name}. ");
const Choices kDurations("a few days|a week|two weeks|several weeks|a month|three months");

std::vector<std::string> list(const char* field) { return Choices(field).all(); }

void set_facts(const Condition& c, Picker& rng, Vars& v) {
  v.set("name", c.name), v.set("Name", capitalize(c.name)), v.set("what", c.what);
  v.set("specialist", c.specialist), v.set("causes", join_list(list(c.causes)));
  v.set("treatments", join_list(list(c.treatments))), v.set("risks", join_list(list(c.risks)));
  v.set("prevention", join_list(list(c.prevention)));
  auto tests = list(c.tests);
  v.set("tests", join_list(tests)), v.set("test1", tests[0]);
  auto symptoms = list(c.symptoms);
  v.set("symptoms", join_list(symptoms));
  // Two different symptoms for the questions that quote them; the rest describe the condition.
  int first = rng.below(static_cast<int>(symptoms.size()));
  int second = (first + rng.range(1, static_cast<int>(symptoms.size()) - 1)) %
               static_cast<int>(symptoms.size());
  v.set("symptom1", symptoms[first]), v.set("Symptom1", capitalize(symptoms[first]));
  v.set("symptom2", symptoms[second]);
  std::vector<std::string> others;
  for (int i = 0; i < static_cast<int>(symptoms.size()); ++i)
    if (i != first && i != second) others.push_back(symptoms[i]);
  v.set("other_symptoms", others.empty() ? "fatigue" : join_list(others));
}

}  // namespace

QAExample make_medicine_example(Picker& rng) {
  const Condition& condition = rng.pick(kConditions);
  const QuestionType& type = rng.pick(kTypes);
  Vars v;
  set_facts(condition, rng, v);
  v.set("duration", kDurations.pick(rng));
  v.set("relative", kRelatives.pick(rng));
  v.set("age", std::to_string(rng.range(18, 90)));
  std::string question = fill(type.questions.pick(rng), v);
  if (type.allows_context && rng.chance(50)) question = fill(kContexts.pick(rng), v) + question;
  return {capitalize(question), fill(type.answers.pick(rng), v)};
}

}  // namespace ls::datagen
