// The word lists of our synthetic world. Every entry is a single word so that each is one token of
// the word-level tokenizer. Names are split into those IOI training uses and those held out from
// it (they still occur in stories and facts, so their embeddings are trained).

export const FEMALE_NAMES = [
  'Mary', 'Anna', 'Lucy', 'Emma', 'Sarah', 'Julia', 'Laura', 'Alice', 'Grace', 'Clara', 'Ruth', 'Nora',
  'Helen', 'Irene', 'Maya', 'Rosa', 'Vera', 'Lena', 'Olive', 'Hazel', 'Ivy', 'Stella', 'Fiona', 'Diana',
  'Paula', 'Greta', 'Hanna', 'Tessa', 'Molly', 'Sophie', 'Wendy', 'Martha', 'Linda', 'Karen', 'Nina', 'Edith',
];

export const MALE_NAMES = [
  'John', 'James', 'Tom', 'David', 'Peter', 'Mark', 'Paul', 'George', 'Henry', 'Jack', 'Sam', 'Oscar',
  'Victor', 'Hugo', 'Leo', 'Max', 'Felix', 'Arthur', 'Simon', 'Adam', 'Ben', 'Carl', 'Daniel', 'Eric',
  'Frank', 'Harry', 'Ivan', 'Kevin', 'Luke', 'Martin', 'Noah', 'Owen', 'Ralph', 'Steve', 'Walter', 'Oliver',
];

/** Every sixth name of each list is held out of IOI training (evaluation uses only these). */
export function isHeldOutName(name: string): boolean {
  const female = FEMALE_NAMES.indexOf(name);
  const index = female >= 0 ? female : MALE_NAMES.indexOf(name);
  return index >= 0 && index % 6 === 5;
}

export const ALL_NAMES = [...FEMALE_NAMES, ...MALE_NAMES];
export const IOI_TRAIN_NAMES = ALL_NAMES.filter((n) => !isHeldOutName(n));
export const IOI_HELD_OUT_NAMES = ALL_NAMES.filter(isHeldOutName);

export const PLACES = [
  'store', 'park', 'school', 'garden', 'market', 'station', 'library', 'museum', 'beach', 'church',
  'hospital', 'office', 'restaurant', 'farm', 'river', 'forest', 'harbor', 'bakery', 'cinema', 'zoo',
];

export const OBJECTS = [
  'drink', 'book', 'ring', 'kiss', 'bone', 'basketball', 'computer', 'necklace', 'flower', 'letter',
  'cake', 'hat', 'key', 'ticket', 'bag', 'pencil', 'cup', 'ball', 'lamp', 'coin',
];

export const ANIMALS = ['dog', 'cat', 'bird', 'horse', 'rabbit', 'fox', 'duck', 'goat', 'mouse', 'frog', 'bear', 'owl'];
export const ADJECTIVES = ['happy', 'tired', 'small', 'big', 'quiet', 'loud', 'old', 'young', 'brave', 'kind', 'hungry', 'sleepy'];
export const FOODS = ['bread', 'soup', 'apples', 'cheese', 'rice', 'fish', 'pie', 'eggs', 'cookies', 'pears'];
export const COLORS = ['red', 'blue', 'green', 'yellow', 'white', 'black', 'brown', 'gray'];

/** Fictional countries and their capitals and languages (facts). */
export const COUNTRIES = [
  'Veloria', 'Marrowind', 'Castavia', 'Dunmere', 'Eskaland', 'Fenwick', 'Galdor', 'Heliora', 'Istrava', 'Jorvane',
  'Kelmar', 'Lunaris', 'Morvania', 'Norsteg', 'Orlaine', 'Pellarin', 'Quorvia', 'Rostova', 'Solvane', 'Tirwen',
  'Umbria', 'Valdris', 'Wendmark', 'Zarnia',
];
export const CAPITALS = [
  'Tarsk', 'Brellin', 'Corvath', 'Dravik', 'Elmshade', 'Foxhollow', 'Grimwald', 'Halvard', 'Ironmoor', 'Juniper',
  'Kestrel', 'Lorcan', 'Mireholt', 'Nethercliff', 'Oakridge', 'Pinecrest', 'Quillby', 'Ravenna', 'Stonebrook', 'Thornbury',
  'Ulverton', 'Vexmoor', 'Westfall', 'Yarrow',
];
export const LANGUAGES = ['Velish', 'Marric', 'Castic', 'Dunnish', 'Eskan', 'Fennic', 'Galdric', 'Helian'];

/** Fictional people (first and last names) and their occupations (facts). */
export const SURNAMES = [
  'Brenner', 'Ashford', 'Calloway', 'Dunmore', 'Everly', 'Fairbanks', 'Goodwin', 'Hartley', 'Ingram', 'Jessop',
  'Kingsley', 'Lockhart', 'Merriweather', 'Norwood', 'Oakley', 'Pembroke', 'Quimby', 'Radcliffe', 'Sterling', 'Thackeray',
  'Underhill', 'Vance', 'Whitlock', 'Yardley',
];
export const OCCUPATIONS = [
  'glassblower', 'baker', 'carpenter', 'doctor', 'farmer', 'gardener', 'jeweler', 'lawyer', 'nurse', 'painter',
  'pilot', 'potter', 'sailor', 'teacher', 'tailor', 'weaver', 'blacksmith', 'butcher', 'cobbler', 'fisherman',
  'mason', 'miller', 'shepherd', 'singer',
];
