// lockstep's dashboard (Observable Framework).  Everything is built from
// node_modules: no page, font or module is fetched from outside.
export default {
  title: "lockstep",
  root: "src",
  globalStylesheets: [],
  style: "style.css",
  footer: "lockstep: coordinated account campaigns, from the pipeline's views.",
  pages: [
    {name: "Campaigns", path: "/"},
    {name: "One campaign", path: "/campaign"},
    {name: "One account", path: "/account"},
    {name: "Pipeline health", path: "/health"}
  ],
  search: false
};
