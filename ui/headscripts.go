//go:build !wasm

package ui

// The scripts and links of the page's head (see Handler), served by the binary only: the
// WebAssembly has the Go side of each (paint.go, firstfetch.go).

// firstFetchScript asks for the snapshot of the view in the URL; salespulseFirst is the
// promise of its text, "" when there is none (any error: the app then waits for its
// WebSocket, which reports errors).
const firstFetchScript = `<script>(function(){try{
if(location.pathname!=="/"||window.salespulseServed)return;
var q=new URLSearchParams(location.search),range=q.get("range");
if(range&&range!=="all")return;
var f=new URLSearchParams();
["from","to","category","region","channel"].forEach(function(k){if(q.get(k))f.set(k,q.get(k))});
var h={},t=q.get("token")||localStorage.getItem("` + tokenKey + `");
if(t)h.Authorization="Bearer "+t;
window.salespulseFirst=fetch("/api/kpis?"+f,{headers:h}).then(function(r){return r.ok?r.text():""}).catch(function(){return ""});
}catch(e){}})()</script>`

// paintScript draws the figures the page was served with (served.go), else the stored paint
// record of the view in the URL, if any, once the page is parsed (before the deferred
// scripts run), unless the app was first. Without a stored record (a first visit, another
// page) it also preloads app.wasm, so that its download starts with the page rather than
// once the scripts that ask for it have run; the app's own fetch then takes the preloaded
// response (same URL, mode and credentials). With one, the preload would only slow the
// painting down, the app coming from the service worker's cache; the URL's query is the
// view's key, as the app keeps it canonical. It also defines salespulseSavePaint, which
// copies the filter bar and cards, with the state of their fields (which the DOM keeps as
// properties, not attributes), and without a tapped card's exact figure or a form message.
const paintScript = `<script>(function(){try{
var prefix="` + paintPrefix + `";
window.salespulseSavePaint=function(key){try{
var d=document.getElementById("dashboard"),f=d&&d.querySelector(".filters"),k=d&&d.querySelector(".kpis");
if(!f||!k)return;
var fc=f.cloneNode(true),from=f.querySelectorAll("input,select"),to=fc.querySelectorAll("input,select");
for(var i=0;i<from.length;i++){
if(from[i].tagName==="SELECT"){for(var j=0;j<from[i].options.length;j++)to[i].options[j].toggleAttribute("selected",from[i].options[j].selected)}
else to[i].setAttribute("value",from[i].value)}
fc.querySelectorAll(".field-error").forEach(function(e){e.remove()});
var kc=k.cloneNode(true);
kc.querySelectorAll(".exact").forEach(function(e){e.classList.remove("exact")});
localStorage.setItem(prefix+key,JSON.stringify({filters:fc.outerHTML,cards:kc.outerHTML}));
}catch(e){}};
var e=document.getElementById("` + servedID + `"),s=window.salespulseServed=e?JSON.parse(e.textContent):undefined,p=location.pathname==="/"&&localStorage.getItem(prefix+location.search.slice(1));
if(!p){
var l=document.createElement("link");
l.rel="preload";l.href="/web/app.wasm";l.as="fetch";l.type="application/wasm";l.crossOrigin="anonymous";
document.head.appendChild(l);
if(!s)return}
p=s?null:JSON.parse(p);
var draw=function(){
var d=document.getElementById("dashboard");
if(!d)return;
document.removeEventListener("readystatechange",draw);
var f=d.querySelector(".filters"),k=d.querySelector(".kpis"),w=d.querySelector("#window");
if(d.dataset.state!=="empty"||!f||!k)return;
var state="cached",n=d.querySelector("#notice");
if(n)n.remove();
if(s){k.outerHTML=s.cards;if(w)w.textContent=s.window;state="live"}
else{f.outerHTML=p.filters;k.outerHTML=p.cards}
d.dataset.state=state;d.classList.replace("state-empty","state-"+state);
document.documentElement.classList.add("painted");
};
document.addEventListener("readystatechange",draw);
}catch(e){}})()</script>`
